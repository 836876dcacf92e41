// Matches one machine against policy when the machine itself changed (or was never matched):
// policy changes are matched in the background, in batches (policy-matcher.ts), so an agent's
// poll only catches what happened to its own machine.
import type { Selectable } from 'kysely';
import type { MachinesTable } from '../store/schema.js';
import { matchMachines } from './gc-machine-match.js';
import type { GcServices } from './gc-services.js';
import { gcMachineState } from './gc-store.js';

type MachineRow = Selectable<MachinesTable>;

/** Matches the machine against policy unless it has been since it last changed. */
export async function reconcileIfStale(services: GcServices, machine: MachineRow): Promise<void> {
  const { db, policy } = services;
  if (policy === undefined) return;
  if ((await gcMachineState(db, machine.id)).reconciledFor === machine.updated_at) return;
  const agent = await db
    .selectFrom('machine_agents')
    .select('report')
    .where('machine_id', '=', machine.id)
    .executeTakeFirst();
  await matchMachines(
    services,
    [{ ...machine, agent_report: agent?.report ?? null }],
    await policy.evaluator(),
  );
}
