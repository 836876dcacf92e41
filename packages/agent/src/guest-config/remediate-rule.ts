// Carries out a remediating assignment's change for one non-compliant rule: plans it with the
// pure planners and applies it through remediation-writes.ts. Only `file` and `configKey` rules
// are changed; every other kind is audit-only and says so.
import type { ComplianceReason, GuestConfigurationRule } from '@tether/protocol';
import { applyConfigEdit, planConfigKeyRemediation } from './config-key-remediation.js';
import { planFileRemediation } from './file-remediation.js';
import { changeFileAttributes, rewriteFile } from './remediation-writes.js';
import type { RuleFacts } from './rule-facts.js';
import type { SystemFacts } from './system-facts.js';

export type RemediationResult =
  /** Something was written: the reasons say what; the rule must be judged again. */
  | { readonly changed: true; readonly reasons: readonly ComplianceReason[] }
  /** Nothing was written: the reason says why. */
  | { readonly changed: false; readonly reason: ComplianceReason };

export function remediateRule(
  rule: GuestConfigurationRule,
  facts: RuleFacts,
  system: SystemFacts,
  root: string,
): RemediationResult {
  if (rule.kind === 'file' && facts.kind === 'file') {
    const plan = planFileRemediation(rule, facts.file, system.accountIds());
    if (plan.plan === 'auditOnly') return { changed: false, reason: plan.reason };
    if (plan.plan === 'nothing') return nothingToDo(rule.kind);
    return attempt(rule.kind, plan.reasons, () =>
      changeFileAttributes(root, rule.path, plan.change),
    );
  }
  if (rule.kind === 'configKey' && facts.kind === 'configKey') {
    const plan = planConfigKeyRemediation(rule, facts.config);
    if (plan.plan === 'auditOnly') return { changed: false, reason: plan.reason };
    return attempt(rule.kind, [plan.reason], () =>
      rewriteFile(root, plan.edit.file, (text) => applyConfigEdit(text, plan.edit)),
    );
  }
  return {
    changed: false,
    reason: {
      code: `${rule.kind}.auditOnly`,
      phrase: `${rule.kind} rules are audit-only; nothing was changed`,
    },
  };
}

function attempt(
  kind: string,
  reasons: readonly ComplianceReason[],
  write: () => void,
): RemediationResult {
  try {
    write();
    return { changed: true, reasons };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { changed: false, reason: { code: `${kind}.remediationFailed`, phrase: message } };
  }
}

function nothingToDo(kind: string): RemediationResult {
  return {
    changed: false,
    reason: { code: `${kind}.notRemediated`, phrase: 'nothing the rule checks could be changed' },
  };
}
