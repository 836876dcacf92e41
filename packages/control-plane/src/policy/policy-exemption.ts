// Exemptions: which one, if any, takes a resource out of an assignment (or out of some of an
// initiative's members) at a given moment. An exemption stops counting exactly at expiresOn.
import { isWithinScope } from '../rbac/scope.js';

export type ExemptionCategory = 'Waiver' | 'Mitigated';

export interface ExemptionRecord {
  /** The exemption's ARM id as rendered. */
  readonly id: string;
  /** Normalized (lower-case) scope. */
  readonly scope: string;
  /** Lower-cased assignment id. */
  readonly policyAssignmentId: string;
  /** Lower-cased reference ids; empty exempts from every member. */
  readonly policyDefinitionReferenceIds: readonly string[];
  readonly exemptionCategory: ExemptionCategory;
  /** ISO-8601; undefined never expires. */
  readonly expiresOn: string | undefined;
}

export function isExemptionActive(
  exemption: Pick<ExemptionRecord, 'expiresOn'>,
  now: number,
): boolean {
  return exemption.expiresOn === undefined || now < Date.parse(exemption.expiresOn);
}

/** The first active exemption covering the resource for this assignment and member. */
export function exemptionFor(
  exemptions: readonly ExemptionRecord[],
  policyAssignmentId: string,
  policyDefinitionReferenceId: string | undefined,
  resourceId: string,
  now: number,
): ExemptionRecord | undefined {
  const assignment = policyAssignmentId.toLowerCase();
  const id = resourceId.toLowerCase();
  const reference = policyDefinitionReferenceId?.toLowerCase();
  return exemptions.find(
    (e) =>
      e.policyAssignmentId === assignment &&
      isWithinScope(id, e.scope) &&
      (e.policyDefinitionReferenceIds.length === 0 ||
        (reference !== undefined && e.policyDefinitionReferenceIds.includes(reference))) &&
      isExemptionActive(e, now),
  );
}
