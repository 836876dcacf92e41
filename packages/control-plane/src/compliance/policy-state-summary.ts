// summarize: GROUP BYs over the scoped states, folded into Azure's summary shape (overall, per
// policy assignment, per member definition). A resource counts once, in its worst state over
// the policies counted: NonCompliant if any is, else Compliant, else Exempt, else Unknown.
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
  // Per machine (overall) and per machine within each assignment (an initiative's members
  // are one resource's several policies), the worst state, then counted.
  const worst = sql<number>`min(case q.state when 'NonCompliant' then 0 when 'Compliant' then 1 when 'Exempt' then 2 else 3 end)`;
  const perMachine = db
    .selectFrom(scopedStates(db, scope, filter, now).as('q'))
    .select(['q.machine_id', worst.as('rank')])
    .groupBy('q.machine_id');
  const resources = await db
    .selectFrom(perMachine.as('m'))
    .select(['m.rank', sql<number>`count(*)`.as('n')])
    .groupBy('m.rank')
    .execute();
  const perAssignmentMachine = db
    .selectFrom(scopedStates(db, scope, filter, now).as('q'))
    .select(['q.policy_assignment_id', 'q.machine_id', worst.as('rank')])
    .groupBy(['q.policy_assignment_id', 'q.machine_id']);
  const assignmentResources = await db
    .selectFrom(perAssignmentMachine.as('am'))
    .select(['am.policy_assignment_id', 'am.rank', sql<number>`count(*)`.as('n')])
    .groupBy(['am.policy_assignment_id', 'am.rank'])
    .execute();
  const resourcesOf = new Map<string, Map<string, number>>();
  for (const row of assignmentResources) {
    const counts = resourcesOf.get(row.policy_assignment_id) ?? new Map<string, number>();
    counts.set(RANKED[Number(row.rank)] ?? 'Unknown', Number(row.n));
    resourcesOf.set(row.policy_assignment_id, counts);
  }
  const assignments = new Map<
    string,
    {
      setId: string | null;
      members: Map<string, { id: string; action: string; counts: Map<string, number> }>;
    }
  >();
  for (const g of groups) {
    let a = assignments.get(g.policy_assignment_id);
    if (a === undefined) {
      a = { setId: g.policy_set_definition_id, members: new Map() };
      assignments.set(g.policy_assignment_id, a);
    }
    const n = Number(g.n);
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
      const machines = resourcesOf.get(id) ?? new Map<string, number>();
      return {
        policyAssignmentId: id,
        policySetDefinitionId: a.setId ?? '',
        results: results(
          machines.get('NonCompliant') ?? 0,
          nonCompliantPolicies,
          details(machines),
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
  const resourceCounts = new Map(
    resources.map((r) => [RANKED[Number(r.rank)] ?? 'Unknown', Number(r.n)]),
  );
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

/** The states by rank in the `worst` expression above. */
const RANKED = ['NonCompliant', 'Compliant', 'Exempt', 'Unknown'] as const;

function results(
  nonCompliantResources: number,
  nonCompliantPolicies: number,
  resourceDetails: Results['resourceDetails'],
  policyDetails: Results['policyDetails'],
): Results {
  return { nonCompliantResources, nonCompliantPolicies, resourceDetails, policyDetails };
}
