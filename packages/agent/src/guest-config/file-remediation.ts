// Plans how a remediating assignment brings a `file` rule into line: the owner, group and mode to
// set on the existing file, never creating or deleting one. Pure; remediation-writes.ts applies it.
import type { ComplianceReason, FileRule } from '@tether/protocol';
import { octal } from './file-rule.js';
import type { FileFacts } from './rule-facts.js';

export interface FileChange {
  readonly uid?: number;
  readonly gid?: number;
  /** Permission bits (st_mode & 07777). */
  readonly mode?: number;
}

/** Account names to ids, from etc/passwd and etc/group under the root. */
export interface AccountIds {
  readonly users: ReadonlyMap<string, number>;
  readonly groups: ReadonlyMap<string, number>;
}

export type FileRemediation =
  | { readonly plan: 'change'; readonly change: FileChange; readonly reasons: ComplianceReason[] }
  | { readonly plan: 'auditOnly'; readonly reason: ComplianceReason }
  | { readonly plan: 'nothing' };

export function planFileRemediation(
  rule: FileRule,
  file: FileFacts,
  ids: AccountIds,
): FileRemediation {
  const path = rule.path;
  if (rule.present === false) {
    return file.exists
      ? auditOnly(`remediation never deletes files; ${path} was left in place`)
      : { plan: 'nothing' };
  }
  if (!file.exists) {
    return rule.present === true
      ? auditOnly(`remediation never creates files; ${path} is still missing`)
      : { plan: 'nothing' };
  }
  if (file.type === 'other') {
    return auditOnly(`${path} is not a regular file or folder, so it was not changed`);
  }
  const change: { uid?: number; gid?: number; mode?: number } = {};
  const reasons: ComplianceReason[] = [];
  const uid = rule.owner === undefined ? undefined : idOf(rule.owner, ids.users);
  const gid = rule.group === undefined ? undefined : idOf(rule.group, ids.groups);
  if (rule.owner !== undefined && uid === undefined) {
    return auditOnly(
      `user ${rule.owner} does not exist in /etc/passwd, so ${path} was not changed`,
    );
  }
  if (rule.group !== undefined && gid === undefined) {
    return auditOnly(
      `group ${rule.group} does not exist in /etc/group, so ${path} was not changed`,
    );
  }
  if (uid !== undefined && uid !== file.uid) {
    change.uid = uid;
    reasons.push({
      code: 'file.owner.remediated',
      phrase: `${path}: changed owner from ${file.user ?? `uid ${file.uid}`} to ${rule.owner}`,
    });
  }
  if (gid !== undefined && gid !== file.gid) {
    change.gid = gid;
    reasons.push({
      code: 'file.group.remediated',
      phrase: `${path}: changed group from ${file.group ?? `gid ${file.gid}`} to ${rule.group}`,
    });
  }
  const mode = targetMode(rule, file.mode);
  // chown clears set-id bits, so the mode is set again after an owner change even when equal.
  if (mode !== file.mode || (reasons.length > 0 && (file.mode & 0o6000) !== 0)) {
    change.mode = mode;
    if (mode !== file.mode) {
      reasons.push({
        code: 'file.mode.remediated',
        phrase: `${path}: changed mode from ${octal(file.mode)} to ${octal(mode)}`,
      });
    }
  }
  return reasons.length === 0 ? { plan: 'nothing' } : { plan: 'change', change, reasons };
}

/** `mode` exactly, or the current bits less those `maxMode` does not allow. */
function targetMode(rule: FileRule, current: number): number {
  if (rule.mode !== undefined) return parseInt(rule.mode, 8);
  if (rule.maxMode !== undefined) return current & parseInt(rule.maxMode, 8);
  return current;
}

function idOf(account: string, names: ReadonlyMap<string, number>): number | undefined {
  return /^\d+$/.test(account) ? Number(account) : names.get(account);
}

function auditOnly(phrase: string): FileRemediation {
  return { plan: 'auditOnly', reason: { code: 'file.notRemediated', phrase } };
}
