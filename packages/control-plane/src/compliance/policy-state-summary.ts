// summarize: one GROUP BY over the scoped states, folded into Azure's summary shape (overall,
// per policy assignment, per member definition).
import { sql } from 'kysely';
import type { Db } from '../guest-configuration/gc-store.js';
import { scopedStates, type StateFilter, type StateScope } from './policy-state-query.js';

interface Results {
  nonCompliantResources: number;
  nonCompliantPolicies: number;
  resourceDetails: { complianceState: string; count: number }[];
  policyDetails: { complianceState: string; count: number }[];
}

export async function summarizeStates(
  db: Db,
  scope: StateScope,
  filter: StateFilter,
  now: string,
  top: number,
): Promise<Record<string, unknown>> {
  const groups = await db
    .selectFrom(scopedStates(db, scope, filter, now).as('q'))
    .select([
      'q.policy_assignment_id',
      'q.reference_id',
      'q.policy_definition_id',
      'q.policy_set_definition_id',
      'q.definition_action',
      'q.state',
      sql<number>`count(*)`.as('n'),
    ])
    .groupBy([
      'q.policy_assignment_id',
      'q.reference_id',
      'q.policy_definition_id',
      'q.policy_set_definition_id',
      'q.definition_action',
      'q.state',
    ])
    .execute();
  const resources = await db
    .selectFrom(scopedStates(db, scope, filter, now).as('q'))
    .select(['q.state', sql<number>`count(distinct q.machine_id)`.as('n')])
    .groupBy('q.state')
    .execute();
  const assignments = new Map<
    string,
    {
      setId: string | null;
      counts: Map<string, number>;
      members: Map<string, { id: string; action: string; counts: Map<string, number> }>;
    }
  >();
  for (const g of groups) {
    let a = assignments.get(g.policy_assignment_id);
    if (a === undefined) {
      a = { setId: g.policy_set_definition_id, counts: new Map(), members: new Map() };
      assignments.set(g.policy_assignment_id, a);
    }
    const n = Number(g.n);
    a.counts.set(g.state, (a.counts.get(g.state) ?? 0) + n);
    let m = a.members.get(g.reference_id);
    if (m === undefined) {
      m = { id: g.policy_definition_id, action: g.definition_action, counts: new Map() };
      a.members.set(g.reference_id, m);
    }
    m.counts.set(g.state, (m.counts.get(g.state) ?? 0) + n);
  }
  const details = (counts: Map<string, number>) =>
    [...counts]
      .sort(([x], [y]) => x.localeCompare(y))
      .map(([complianceState, count]) => ({ complianceState, count }));
  const policyAssignments = [...assignments]
    .map(([id, a]) => {
      const members = [...a.members].map(([referenceId, m]) => ({
        policyDefinitionId: m.id,
        policyDefinitionReferenceId: referenceId,
        effect: m.action,
        results: results(
          m.counts.get('NonCompliant') ?? 0,
          m.counts.get('NonCompliant') ? 1 : 0,
          details(m.counts),
          [],
        ),
      }));
      const nonCompliantPolicies = members.filter(
        (m) => m.results.nonCompliantResources > 0,
      ).length;
      return {
        policyAssignmentId: id,
        policySetDefinitionId: a.setId ?? '',
        results: results(
          a.counts.get('NonCompliant') ?? 0,
          nonCompliantPolicies,
          details(a.counts),
          [],
        ),
        policyDefinitions: members,
        policyGroups: [],
      };
    })
    .sort(
      (x, y) =>
        y.results.nonCompliantResources - x.results.nonCompliantResources ||
        x.policyAssignmentId.localeCompare(y.policyAssignmentId),
    )
    .slice(0, top);
  const resourceCounts = new Map(resources.map((r) => [r.state, Number(r.n)]));
  const nonCompliantPolicies = policyAssignments.reduce(
    (sum, a) => sum + a.results.nonCompliantPolicies,
    0,
  );
  return {
    results: results(
      resourceCounts.get('NonCompliant') ?? 0,
      nonCompliantPolicies,
      details(resourceCounts),
      details(
        new Map(
          [...assignments.values()]
            .flatMap((a) => [...a.members.values()])
            .reduce((acc, m) => {
              const state = m.counts.get('NonCompliant') ? 'NonCompliant' : 'Compliant';
              acc.set(state, (acc.get(state) ?? 0) + 1);
              return acc;
            }, new Map<string, number>()),
        ),
      ),
    ),
    policyAssignments,
  };
}

function results(
  nonCompliantResources: number,
  nonCompliantPolicies: number,
  resourceDetails: Results['resourceDetails'],
  policyDetails: Results['policyDetails'],
): Results {
  return { nonCompliantResources, nonCompliantPolicies, resourceDetails, policyDetails };
}
