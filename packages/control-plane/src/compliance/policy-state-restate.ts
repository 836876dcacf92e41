// Writes each policy state's effective compliance and its machine's worst states whenever one
// of their inputs changes (an evaluation, a report, an exemption, the machine's guest
// configuration switch), so that reading compliance computes nothing per row.
import { sql } from 'kysely';
import type { Db } from '../guest-configuration/gc-store.js';
import type { PolicyState, PolicyStatesTable } from '../store/schema.js';

/** States from worst to best when a machine counts once: the index is the stored rank. */
export const RANKED = ['NonCompliant', 'Compliant', 'Exempt', 'Unknown'] as const;

/** Machines per read: far below both databases' limits on bound values. */
const CHUNK = 500;

/**
 * One machine's states, settled as of `now` (ISO-8601): each row's `state` (Exempt while an
 * exemption counts, NonCompliant for a guest configuration audit while `switchedOff`, else its
 * own compliance), and on the first row of each assignment and on the machine's first row the
 * rank of the worst state there, so that the machine counts once. Changes the rows in place.
 */
export function settleStates<T extends PolicyStatesTable>(
  rows: T[],
  switchedOff: boolean,
  now: string,
): T[] {
  for (const row of rows) {
    row.state =
      row.exempt === 1 && (row.exempt_until === null || row.exempt_until > now)
        ? 'Exempt'
        : row.gc_assignment_name !== null && switchedOff
          ? 'NonCompliant'
          : row.compliance_state;
  }
  const ordered = [...rows].sort(
    (a, b) =>
      compare(a.policy_assignment_id, b.policy_assignment_id) ||
      compare(a.reference_id, b.reference_id),
  );
  let machineWorst: number = RANKED.length;
  const assignmentWorst = new Map<string, number>();
  for (const row of ordered) {
    const rank = rankOf(row.state);
    machineWorst = Math.min(machineWorst, rank);
    assignmentWorst.set(
      row.policy_assignment_id,
      Math.min(assignmentWorst.get(row.policy_assignment_id) ?? RANKED.length, rank),
    );
  }
  const leads = new Set<string>();
  ordered.forEach((row, i) => {
    const lead = !leads.has(row.policy_assignment_id);
    leads.add(row.policy_assignment_id);
    row.assignment_rank = lead ? (assignmentWorst.get(row.policy_assignment_id) ?? null) : null;
    row.machine_rank = i === 0 ? machineWorst : null;
  });
  return rows;
}

function rankOf(state: PolicyState): number {
  const rank = RANKED.indexOf(state);
  return rank < 0 ? RANKED.length - 1 : rank;
}

/** Code-unit order, the same on every database and in every locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Machines whose agent has guest configuration switched off, of those given. */
export async function switchedOffMachines(
  db: Db,
  machineIds: readonly string[],
): Promise<Set<string>> {
  const off = new Set<string>();
  for (let i = 0; i < machineIds.length; i += CHUNK) {
    const rows = await db
      .selectFrom('guest_configuration_machines')
      .select('machine_id')
      .where('machine_id', 'in', machineIds.slice(i, i + CHUNK))
      .where((eb) => eb.or([eb('disabled_reason', 'is not', null), eb('switched_off', '=', 1)]))
      .execute();
    for (const row of rows) off.add(row.machine_id);
  }
  return off;
}

/** Settles every policy state of the machines again, writing the rows whose values moved. */
export async function restateMachines(
  db: Db,
  machineIds: readonly string[],
  now: string,
): Promise<void> {
  // One transaction: a commit (and its flush to disk) per batch, not per row.
  if (!db.isTransaction) {
    await db.transaction().execute((trx) => restateMachines(trx, machineIds, now));
    return;
  }
  const unique = [...new Set(machineIds)];
  for (let i = 0; i < unique.length; i += CHUNK) {
    const ids = unique.slice(i, i + CHUNK);
    const off = await switchedOffMachines(db, ids);
    const rows = await db
      .selectFrom('policy_states')
      .selectAll()
      .where('machine_id', 'in', ids)
      .execute();
    const byMachine = new Map<string, PolicyStatesTable[]>();
    for (const row of rows)
      byMachine.set(row.machine_id, [...(byMachine.get(row.machine_id) ?? []), row]);
    const moved: PolicyStatesTable[] = [];
    for (const [machineId, mine] of byMachine) {
      const before = new Map(mine.map((r) => [r, { ...r }]));
      for (const row of settleStates(mine, off.has(machineId), now)) {
        const was = before.get(row);
        if (
          was?.state !== row.state ||
          was.assignment_rank !== row.assignment_rank ||
          was.machine_rank !== row.machine_rank
        )
          moved.push(row);
      }
    }
    // Written back a hundred rows per statement: the rows exist, so each insert is an update.
    for (let j = 0; j < moved.length; j += 100) {
      await db
        .insertInto('policy_states')
        .values(moved.slice(j, j + 100))
        .onConflict((oc) =>
          oc.columns(['machine_id', 'policy_assignment_id', 'reference_id']).doUpdateSet((eb) => ({
            state: eb.ref('excluded.state'),
            assignment_rank: eb.ref('excluded.assignment_rank'),
            machine_rank: eb.ref('excluded.machine_rank'),
          })),
        )
        .execute();
    }
  }
}

/**
 * Exemptions run out with time, not with a write: before compliance is read, the machines with
 * an Exempt state whose exemption ended by `now` are restated. One indexed look-up (a partial
 * index over the Exempt states) when none has.
 */
export async function expireExemptions(db: Db, now: string): Promise<void> {
  // No DISTINCT: it would have SQLite walk the primary key instead of the partial index.
  const { rows } = await sql<{ machine_id: string }>`select machine_id from policy_states
    where state = 'Exempt' and exempt_until <= ${now}`.execute(db);
  if (rows.length > 0)
    await restateMachines(
      db,
      rows.map((r) => r.machine_id),
      now,
    );
}
