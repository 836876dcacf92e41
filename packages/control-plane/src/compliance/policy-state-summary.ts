// summarize: counts folded into Azure's summary shape (overall, per policy assignment, per member
// definition). A resource counts once, in its worst state over the policies counted: NonCompliant
// if any is, else Compliant, else Exempt, else Unknown. The states and each machine's worst are
// stored (policy-state-restate.ts), so an unfiltered summary is one GROUP BY over an index.
import { sql } from 'kysely';
import type { Db } from '../guest-configuration/gc-store.js';
import { scopedStates, type StateFilter, type StateScope } from './policy-state-query.js';
import { RANKED } from './policy-state-restate.js';

interface MemberCount {
  policy_assignment_id: string;
  reference_id: string;
  policy_definition_id: string;
  policy_set_definition_id: string | null;
  definition_action: string;
  state: string;
  n: number;
}

interface Counts {
  members: MemberCount[];
  /** Machines by their worst state, per policy assignment. */
  perAssignment: Map<string, Map<string, number>>;
  /** Machines by their worst state over everything counted. */
  overall: Map<string, number>;
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
  top: number,
): Promise<Record<string, unknown>> {
  // A state or assignment filter leaves some of a machine's states out, so its stored worst
  // over all of them does not apply: those summaries work the worst out from the rows left.
  const counts =
    filter.complianceState === undefined && filter.policyAssignmentName === undefined
      ? await storedCounts(db, scope, filter)
      : await filteredCounts(db, scope, filter);
  return fold(counts, top);
}

const add = <K>(map: Map<K, number>, key: K, n: number) => map.set(key, (map.get(key) ?? 0) + n);

/** One GROUP BY: each machine's first row of an assignment, and its first row, carry its worst. */
async function storedCounts(db: Db, scope: StateScope, filter: StateFilter): Promise<Counts> {
  const subscription = scope.subscriptionId.toLowerCase();
  const definitionOf = (column: string) =>
    sql`(select ${sql.ref(`x.${column}`)} from policy_states x where x.subscription_id = ${subscription}
      and x.policy_assignment_id = g.policy_assignment_id and x.reference_id = g.reference_id limit 1)`;
  const grouped = scopedStates(db, scope, filter)
    .clearSelect()
    .select([
      's.policy_assignment_id',
      's.reference_id',
      's.state',
      's.assignment_rank',
      's.machine_rank',
      (eb) => eb.fn.countAll<number>().as('n'),
    ])
    .groupBy([
      's.policy_assignment_id',
      's.reference_id',
      's.state',
      's.assignment_rank',
      's.machine_rank',
    ]);
  const { rows } = await sql<
    MemberCount & { assignment_rank: number | null; machine_rank: number | null }
  >`select g.*, ${definitionOf('policy_definition_id')} as policy_definition_id,
      ${definitionOf('policy_set_definition_id')} as policy_set_definition_id,
      ${definitionOf('definition_action')} as definition_action
    from (${grouped}) as g`.execute(db);
  const counts: Counts = { members: rows, perAssignment: new Map(), overall: new Map() };
  for (const row of rows) {
    const n = Number(row.n);
    if (row.assignment_rank !== null) {
      const machines =
        counts.perAssignment.get(row.policy_assignment_id) ?? new Map<string, number>();
      counts.perAssignment.set(
        row.policy_assignment_id,
        add(machines, rankName(row.assignment_rank), n),
      );
    }
    if (row.machine_rank !== null) add(counts.overall, rankName(row.machine_rank), n);
  }
  return counts;
}

interface FilteredRow extends MemberCount {
  kind: 'member' | 'assignment' | 'overall';
}

/** The filtered rows, materialized once: member counts, and each machine's worst among them. */
async function filteredCounts(db: Db, scope: StateScope, filter: StateFilter): Promise<Counts> {
  const { rows } = await sql<FilteredRow>`
    with q as materialized (
      select policy_assignment_id, reference_id, policy_definition_id, policy_set_definition_id,
        definition_action, machine_id, state,
        case state when 'NonCompliant' then 0 when 'Compliant' then 1 when 'Exempt' then 2 else 3 end as rank
      from (${scopedStates(db, scope, filter)}) as scoped
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
  const counts: Counts = {
    members: rows.filter((row) => row.kind === 'member'),
    perAssignment: new Map(),
    overall: new Map(),
  };
  for (const row of rows) {
    const n = Number(row.n);
    if (row.kind === 'assignment') {
      const machines =
        counts.perAssignment.get(row.policy_assignment_id) ?? new Map<string, number>();
      counts.perAssignment.set(
        row.policy_assignment_id,
        add(machines, rankName(Number(row.state)), n),
      );
    } else if (row.kind === 'overall') add(counts.overall, rankName(Number(row.state)), n);
  }
  return counts;
}

function rankName(rank: number): string {
  return RANKED[rank] ?? 'Unknown';
}

function fold(
  { members: groups, perAssignment: resourcesOf, overall: resourceCounts }: Counts,
  top: number,
): Record<string, unknown> {
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
