// Policy states as SQL: each row's compliance worked out in the query (an exemption counts until
// its expiry, guest configuration switched off on a machine makes its audits NonCompliant), so
// summarize is a single GROUP BY over the stored states.
import { sql, type RawBuilder, type SqlBool } from 'kysely';
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

/**
 * A heartbeat saying guest configuration is off or in monitor mode. Word for word the condition
 * of the partial index `machine_agents_guest_configuration_off` (migration 0009): any other
 * spelling makes the database read every machine's heartbeat instead.
 */
export const GC_SWITCHED_OFF = `report like '%"guestConfigurationEnabled":"false"%' or report like '%"configMode":"monitor"%'`;

/** The compliance of a row at `now` (ISO-8601). */
export function stateExpression(now: string): RawBuilder<string> {
  return sql<string>`case
    when s.exempt = 1 and (s.exempt_until is null or s.exempt_until > ${now}) then 'Exempt'
    when s.gc_assignment_name is not null and s.machine_id in (
      select machine_id from guest_configuration_machines where disabled_reason is not null
      union
      select machine_id from machine_agents where ${sql.raw(GC_SWITCHED_OFF)}
    ) then 'NonCompliant'
    else s.compliance_state end`;
}

/** The scoped, filtered states with their computed `state`, as a subquery `q`. */
export function scopedStates(db: Db, scope: StateScope, filter: StateFilter, now: string) {
  let inner = db
    .selectFrom('policy_states as s')
    .selectAll('s')
    .select(stateExpression(now).as('state'))
    .where('s.subscription_id', '=', scope.subscriptionId.toLowerCase());
  if (scope.resourceGroup !== undefined)
    inner = inner.where('s.resource_group', '=', scope.resourceGroup.toLowerCase());
  if (scope.machineId !== undefined) inner = inner.where('s.machine_id', '=', scope.machineId);
  if (filter.resourceId !== undefined)
    inner = inner.where('s.machine_id', '=', filter.resourceId.toLowerCase());
  if (filter.policyAssignmentName !== undefined)
    inner = inner.where(
      sql<SqlBool>`lower(s.policy_assignment_name) = ${filter.policyAssignmentName.toLowerCase()}`,
    );
  let outer = db.selectFrom(inner.as('q')).selectAll('q');
  if (filter.complianceState !== undefined)
    outer = outer.where(sql<SqlBool>`lower(q.state) = ${filter.complianceState.toLowerCase()}`);
  return outer;
}
