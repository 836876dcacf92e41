// After a machine's guest configuration assignments change: its goal state moves on (waking
// its agent's poll) and the compliance states that read those assignments follow them.
import { restateMachines } from '../compliance/policy-state-restate.js';
import type { Db } from './gc-store.js';
import { machineGcAssignments, updateGcMachine } from './gc-store.js';
import type { GcServices } from './gc-services.js';

export async function gcAssignmentsChanged(services: GcServices, machineId: string): Promise<void> {
  await updateGcMachine(services.db, machineId, { bumpGeneration: true });
  await syncGcPolicyStates(services.db, machineId, new Date(services.clock.now()).toISOString());
  services.waiters.wake(machineId);
}

/** Guest configuration policy states of the machine take their assignment's compliance. */
export async function syncGcPolicyStates(db: Db, machineId: string, now: string): Promise<void> {
  const rows = await db
    .selectFrom('policy_states')
    .select(['policy_assignment_id', 'reference_id', 'gc_assignment_name', 'compliance_state'])
    .where('machine_id', '=', machineId)
    .where('gc_assignment_name', 'is not', null)
    .execute();
  if (rows.length === 0) return;
  const statusByName = new Map(
    (await machineGcAssignments(db, machineId)).map((a) => [
      a.name.toLowerCase(),
      a.compliance_status === 'Pending' ? 'Unknown' : a.compliance_status,
    ]),
  );
  let changed = false;
  for (const row of rows) {
    const state = (statusByName.get(row.gc_assignment_name ?? '') ?? 'Unknown') as
      'Compliant' | 'NonCompliant' | 'Unknown';
    if (state === row.compliance_state) continue;
    changed = true;
    await db
      .updateTable('policy_states')
      .set({ compliance_state: state, timestamp: now })
      .where('machine_id', '=', machineId)
      .where('policy_assignment_id', '=', row.policy_assignment_id)
      .where('reference_id', '=', row.reference_id)
      .execute();
  }
  if (changed) await restateMachines(db, [machineId], now);
}
