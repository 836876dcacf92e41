// What applies to one resource: every covering assignment's members whose `if` matches,
// with their effect, guest configuration and exemption; and the Deny decision built on it.
import type { PolicyResourceView } from './policy-aliases.js';
import {
  assignmentCovers,
  type CompiledAssignment,
  type EnforcementMode,
} from './policy-assignment.js';
import { evaluateCondition } from './policy-condition.js';
import { exemptionFor, type ExemptionCategory, type ExemptionRecord } from './policy-exemption.js';
import type { PolicyEffect } from './policy-rule.js';

export interface PolicyEntry {
  readonly policyAssignmentId: string;
  readonly policyAssignmentName: string;
  readonly policyAssignmentDisplayName: string | undefined;
  readonly policyDefinitionId: string;
  readonly policySetDefinitionId?: string;
  readonly policyDefinitionReferenceId?: string;
  readonly effect: PolicyEffect;
  readonly enforcementMode: EnforcementMode;
  /** For guest configuration policies: the configuration to assign to the machine. */
  readonly guestConfiguration?: {
    readonly name: string;
    readonly version?: string;
    readonly assignmentType?: string;
    /** From `metadata.guestConfiguration.configurationParameter` and the assignment's values. */
    readonly parameters?: readonly { readonly name: string; readonly value: string }[];
  };
  /** The active exemption that covers this resource for this entry, if any. */
  readonly exemption?: {
    readonly id: string;
    readonly category: ExemptionCategory;
    readonly expiresOn?: string;
  };
}

/** Every entry whose rule matches the resource (Disabled ones never do). */
export function applicablePolicies(
  view: PolicyResourceView,
  assignments: readonly CompiledAssignment[],
  exemptions: readonly ExemptionRecord[],
  now: number,
): PolicyEntry[] {
  return evaluatePolicies(view, assignments, exemptions, now).matching;
}

export interface PolicyVerdicts {
  /** Entries whose rule matches the resource. */
  matching: PolicyEntry[];
  /**
   * Audit and Deny entries of assignments covering the resource whose rule does not match:
   * the rule is the finding, so the resource is compliant with them.
   */
  compliant: PolicyEntry[];
}

/** Every non-Disabled entry of the assignments covering the resource, matching or compliant. */
export function evaluatePolicies(
  view: PolicyResourceView,
  assignments: readonly CompiledAssignment[],
  exemptions: readonly ExemptionRecord[],
  now: number,
): PolicyVerdicts {
  const entries: PolicyEntry[] = [];
  const compliant: PolicyEntry[] = [];
  for (const { record, members } of assignments) {
    if (!assignmentCovers(record, view.id)) continue;
    for (const member of members) {
      if (member.effect === 'Disabled') continue;
      const matches = evaluateCondition(member.rule.if, view, member.parameters);
      if (!matches && member.effect !== 'Audit' && member.effect !== 'Deny') continue;
      const exemption = exemptionFor(
        exemptions,
        record.id,
        member.policyDefinitionReferenceId,
        view.id,
        now,
      );
      const gc = member.guestConfiguration;
      const gcParameters =
        gc === undefined
          ? []
          : Object.entries(gc.configurationParameter).map(([parameter, name]) => ({
              name,
              value: stringify(member.parameters[parameter]),
            }));
      (matches ? entries : compliant).push({
        policyAssignmentId: record.id,
        policyAssignmentName: record.name,
        policyAssignmentDisplayName: record.displayName,
        policyDefinitionId: member.policyDefinitionId,
        ...(member.policySetDefinitionId === undefined
          ? {}
          : { policySetDefinitionId: member.policySetDefinitionId }),
        ...(member.policyDefinitionReferenceId === undefined
          ? {}
          : { policyDefinitionReferenceId: member.policyDefinitionReferenceId }),
        effect: member.effect,
        enforcementMode: record.enforcementMode,
        ...(gc === undefined
          ? {}
          : {
              guestConfiguration: {
                name: gc.name,
                ...(gc.version === undefined ? {} : { version: gc.version }),
                ...(gc.assignmentType === undefined ? {} : { assignmentType: gc.assignmentType }),
                ...(gcParameters.length === 0 ? {} : { parameters: gcParameters }),
              },
            }),
        ...(exemption === undefined
          ? {}
          : {
              exemption: {
                id: exemption.id,
                category: exemption.exemptionCategory,
                ...(exemption.expiresOn === undefined ? {} : { expiresOn: exemption.expiresOn }),
              },
            }),
      });
    }
  }
  return { matching: entries, compliant };
}

/** The entry that refuses a write: Deny, enforced, not exempted. Undefined allows it. */
export function denyingEntry(entries: readonly PolicyEntry[]): PolicyEntry | undefined {
  return entries.find(
    (e) => e.effect === 'Deny' && e.enforcementMode === 'Default' && e.exemption === undefined,
  );
}

function stringify(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
}
