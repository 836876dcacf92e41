// summarize: GROUP BYs over the scoped states, folded into Azure's summary shape (overall, per
// policy assignment, per member definition). A resource counts once, in its worst state over
// the policies counted: NonCompliant if any is, else Compliant, else Exempt, else Unknown.
import { sql } from 'kysely';
import type { Db } from '../guest-configuration/gc-store.js';
import { scopedStates, type StateFilter, type StateScope } from './policy-state-query.js';

interface SummaryRow {
  kind: 'member' | 'assignment' | 'overall';
  policy_assignment_id: string;
  reference_id: string;
  policy_definition_id: string;
  policy_set_definition_id: string | null;
  definition_action: string;
  /** The state (members), or the rank of the worst state (machines). */
  state: string;
  n: number;
}

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
  // One statement, one pass over the scoped states (materialized once): the member counts,
  // and per assignment and overall each machine's worst state (an initiative's members are one
  // machine's several policies), counted.
  const { rows } = await sql<SummaryRow>`
    with q as materialized (
      select policy_assignment_id, reference_id, policy_definition_id, policy_set_definition_id,
        definition_action, machine_id, state,
        case state when 'NonCompliant' then 0 when 'Compliant' then 1 when 'Exempt' then 2 else 3 end as rank
      from (${scopedStates(db, scope, filter, now)}) as scoped
    )
    select 'member' as kind, policy_assignment_id, reference_id, policy_definition_id,
      policy_set_definition_id, definition_action, state, count(*) as n
    from q
    group by policy_assignment_id, reference_id, policy_definition_id, policy_set_definition_id,
      definition_action, state
    union all
    select 'assignment', policy_assignment_id, '', '', null, '', cast(worst as text), count(*)
    from (select policy_assignment_id, machine_id, min(rank) as worst from q
      group by policy_assignment_id, machine_id) as per_assignment
    group by policy_assignment_id, worst
    union all
    select 'overall', '', '', '', null, '', cast(worst as text), count(*)
    from (select machine_id, min(rank) as worst from q group by machine_id) as per_machine
    group by worst`.execute(db);
  const groups = rows.filter((row) => row.kind === 'member');
  const resources = rows
    .filter((row) => row.kind === 'overall')
    .map((row) => ({ rank: Number(row.state), n: row.n }));
  const resourcesOf = new Map<string, Map<string, number>>();
  for (const row of rows) {
    if (row.kind !== 'assignment') continue;
    const counts = resourcesOf.get(row.policy_assignment_id) ?? new Map<string, number>();
    counts.set(RANKED[Number(row.state)] ?? 'Unknown', Number(row.n));
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
