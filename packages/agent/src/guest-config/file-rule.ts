// Judges a `file` rule: existence or absence, owner, group and permission bits. Pure.
import type { FileRule } from '@tether/protocol';
import { compliant as pass, nonCompliant as fail, type RuleOutcome } from './rule-outcome.js';
import type { FileFacts } from './rule-facts.js';

export function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

export function evaluateFileRule(rule: FileRule, file: FileFacts): RuleOutcome {
  const path = rule.path;
  if (rule.present === false) {
    return file.exists
      ? fail('file.present', `${path} exists; expected it to be absent`)
      : pass('file.absent', `${path} does not exist, as expected`);
  }
  if (!file.exists) {
    return rule.present === true
      ? fail('file.missing', `${path} does not exist; expected it to exist`)
      : pass('file.absent', `${path} does not exist, so there is nothing to check`);
  }
  const problems: { code: string; phrase: string }[] = [];
  if (rule.owner !== undefined && !sameAccount(rule.owner, file.uid, file.user)) {
    problems.push({
      code: 'file.owner',
      phrase: `${path} is owned by ${who(file.user, 'uid', file.uid)}; expected ${rule.owner}`,
    });
  }
  if (rule.group !== undefined && !sameAccount(rule.group, file.gid, file.group)) {
    problems.push({
      code: 'file.group',
      phrase: `${path} has group ${who(file.group, 'gid', file.gid)}; expected ${rule.group}`,
    });
  }
  if (rule.mode !== undefined && file.mode !== parseInt(rule.mode, 8)) {
    problems.push({
      code: 'file.mode',
      phrase: `${path} has mode ${octal(file.mode)}; expected ${rule.mode}`,
    });
  }
  if (rule.maxMode !== undefined && (file.mode & ~parseInt(rule.maxMode, 8)) !== 0) {
    problems.push({
      code: 'file.mode',
      phrase: `${path} has mode ${octal(file.mode)}; expected ${rule.maxMode} or stricter`,
    });
  }
  if (problems.length > 0) return { complianceStatus: 'NonCompliant', reasons: problems };
  return pass(
    'file.ok',
    `${path} is owned by ${who(file.user, 'uid', file.uid)}:${who(file.group, 'gid', file.gid)} with mode ${octal(file.mode)}, as expected`,
  );
}

function sameAccount(expected: string, id: number, name: string | undefined): boolean {
  return /^\d+$/.test(expected) ? Number(expected) === id : expected === name;
}

function who(name: string | undefined, kind: string, id: number): string {
  return name ?? `${kind} ${id}`;
}
