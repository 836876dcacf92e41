// Policy states as SQL: the scoped, filtered rows with their stored compliance (worked out when
// an input changed, compliance/policy-state-restate.ts), nothing computed per row.
import { sql, type SqlBool } from 'kysely';
import type { Db } from '../guest-configuration/gc-store.js';

export interface StateScope {
  subscriptionId: string;
  resourceGroup?: string;
  machineId?: string;
}

export interface StateFilter {
  complianceState?: string;
  resourceId?: string;
  policyAssignmentName?: string;
}

/** The scoped, filtered states. */
export function scopedStates(db: Db, scope: StateScope, filter: StateFilter) {
  let query = db
    .selectFrom('policy_states as s')
    .selectAll('s')
    .where('s.subscription_id', '=', scope.subscriptionId.toLowerCase());
  if (scope.resourceGroup !== undefined)
    query = query.where('s.resource_group', '=', scope.resourceGroup.toLowerCase());
  if (scope.machineId !== undefined) query = query.where('s.machine_id', '=', scope.machineId);
  if (filter.resourceId !== undefined)
    query = query.where('s.machine_id', '=', filter.resourceId.toLowerCase());
  if (filter.policyAssignmentName !== undefined)
    query = query.where(
      sql<SqlBool>`lower(s.policy_assignment_name) = ${filter.policyAssignmentName.toLowerCase()}`,
    );
  if (filter.complianceState !== undefined)
    query = query.where(sql<SqlBool>`lower(s.state) = ${filter.complianceState.toLowerCase()}`);
  return query;
}
