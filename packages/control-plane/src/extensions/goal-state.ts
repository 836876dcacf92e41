// A machine's extension goal state (B11): what its extension service must converge to, read
// from the database each time it is asked for, and the operations handed out with it.
import type { Kysely } from 'kysely';
import type { AgentUpgradeGoal } from '@tether/protocol/agent-upgrade';
import type { SealedSettings } from '@tether/protocol/protected-settings';
import { agentUpgradeGoal } from '../agent-upgrade/agent-upgrade-request.js';
import { GroupCommit } from '../store/group-commit.js';
import { preparedQuery } from '../store/prepared-query.js';
import type { Database } from '../store/schema.js';
import type { OperationKind } from './extension-store.js';

export interface GoalStateExtension {
  name: string;
  publisher: string;
  type: string;
  version: string;
  sequence: number;
  settings: Record<string, unknown>;
  protectedSettings: SealedSettings | null;
  /** `removed`: a delete is pending; the agent disables and uninstalls it. */
  state: 'enabled' | 'removed';
  operation: { id: string; kind: OperationKind } | null;
}

export interface GoalState {
  generation: number;
  extensions: GoalStateExtension[];
  /** The agent package the machine should run, when an upgrade was asked for (agent-upgrade/). */
  agentUpgrade: AgentUpgradeGoal | null;
}

const extensionsOf = preparedQuery(1, (db: Kysely<Database>, machineId: string) =>
  db.selectFrom('machine_extensions').selectAll().where('machine_id', '=', machineId).orderBy('id'),
);

const runningOperationsOf = preparedQuery(1, (db: Kysely<Database>, machineId: string) =>
  db
    .selectFrom('extension_operations')
    .select(['id', 'kind', 'extension_id'])
    .where('machine_id', '=', machineId)
    .where('status', '=', 'InProgress'),
);

/** The machine's generation and properties (for an agent upgrade asked for) in one read. */
const generationAndPropertiesOf = preparedQuery(1, (db: Kysely<Database>, machineId: string) =>
  db
    .selectFrom('machines as m')
    .leftJoin('extension_goal_states as g', 'g.machine_id', 'm.id')
    .select(['m.properties', 'g.generation'])
    .where('m.id', '=', machineId),
);

export async function readGoalState(db: Kysely<Database>, machineId: string): Promise<GoalState> {
  // Generation before contents: a change in between makes the next poll answer at once.
  const machine = await generationAndPropertiesOf.first(db, machineId);
  const rows = await extensionsOf.rows(db, machineId);
  const operations = await runningOperationsOf.rows(db, machineId);
  const byExtension = new Map(operations.map((o) => [o.extension_id, o]));
  return {
    generation: Number(machine?.generation ?? 0),
    // Most machines were never asked for an upgrade: their properties are not even parsed.
    agentUpgrade:
      machine === undefined || !machine.properties.includes('"desiredVersion"')
        ? null
        : await agentUpgradeGoal(db, JSON.parse(machine.properties) as Record<string, unknown>),
    extensions: rows.map((row) => {
      const operation = byExtension.get(row.id);
      return {
        name: row.name,
        publisher: row.publisher,
        type: row.type,
        version: row.resolved_version,
        sequence: Number(row.sequence),
        settings: JSON.parse(row.settings) as Record<string, unknown>,
        protectedSettings:
          row.protected_settings === null
            ? null
            : { jwe: row.protected_settings, keyId: row.protected_key_id ?? '' },
        state: row.provisioning_state === 'Deleting' ? 'removed' : 'enabled',
        operation: operation === undefined ? null : { id: operation.id, kind: operation.kind },
      };
    }),
  };
}

/** Records when the agent first received each operation of `state`. */
export async function markDelivered(
  db: Kysely<Database>,
  state: GoalState,
  now: number,
): Promise<void> {
  const ids = state.extensions.flatMap((e) => (e.operation === null ? [] : [e.operation.id]));
  if (ids.length === 0) return;
  // Concurrent deliveries (a push to a fleet) share one commit.
  await GroupCommit.of(db).run(async (trx) => {
    await trx
      .updateTable('extension_operations')
      .set({ delivered_at: new Date(now).toISOString() })
      .where('id', 'in', ids)
      .where('delivered_at', 'is', null)
      .execute();
  });
}

const machinePrincipal = preparedQuery(
  2,
  (db: Kysely<Database>, principalId: string, machineId: string) =>
    db
      .selectFrom('principals')
      .select('id')
      .where('id', '=', principalId)
      .where('machine_id', '=', machineId),
);

/** Whether `principalId` is the system-assigned identity of the machine `machineId`. */
export async function isMachineIdentity(
  db: Kysely<Database>,
  principalId: string | undefined,
  machineId: string,
): Promise<boolean> {
  if (principalId === undefined) return false;
  return (await machinePrincipal.first(db, principalId, machineId)) !== undefined;
}
