// A judged rule without its id: what each kind's pure evaluator returns.
import type { ComplianceReason, ComplianceStatus } from '@tether/protocol';

export interface RuleOutcome {
  readonly complianceStatus: ComplianceStatus;
  readonly reasons: readonly ComplianceReason[];
}

export function compliant(code: string, phrase: string): RuleOutcome {
  return { complianceStatus: 'Compliant', reasons: [{ code, phrase }] };
}

export function nonCompliant(code: string, phrase: string): RuleOutcome {
  return { complianceStatus: 'NonCompliant', reasons: [{ code, phrase }] };
}
