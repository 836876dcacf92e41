// How an operator's request becomes a change the agent must carry out: the extension row and
// its new sequence, one InProgress operation, and the machine's next goal-state generation, all
// in one transaction that refuses to overlap another operation on the same extension.
import type { FastifyReply } from 'fastify';
import type { Kysely, Selectable } from 'kysely';
import { sealProtectedSettings, type SealedSettings } from '@tether/protocol/protected-settings';
import { ArmError } from '../api/arm-error.js';
import { GroupCommit, type Write } from '../store/group-commit.js';
import { preparedQuery } from '../store/prepared-query.js';
import type { Database, MachinesTable } from '../store/schema.js';
import type { operationUrls } from './extension-operations.js';
import type { ExtensionRow } from './extension-resource.js';
import {
  bumpGeneration,
  insertOperation,
  operationInProgress,
  type OperationKind,
  type OperationRow,
} from './extension-store.js';

export interface ExtensionChange {
  /** The row as it is to be stored; `sequence` already the new one. */
  row: ExtensionRow;
  /** The sequence the stored row had when read; undefined when creating it. */
  previousSequence: number | undefined;
  kind: OperationKind;
}

export interface ChangeContext {
  subscriptionId: string;
  machineId: string;
  now: number;
  timeoutMs: number;
  createdBy: string;
}

/** 409 naming the operation that is still running on `extensionId`, if there is one. */
export async function refuseIfBusy(
  db: Kysely<Database>,
  extensionId: string,
  name: string,
): Promise<void> {
  const running = await operationInProgress(db, extensionId);
  if (running !== undefined) throw busy(name, running);
}

/**
 * Stores `changes` and their operations; one more goal-state generation for the machine. By
 * default the transaction is shared with the writes of concurrent requests (a rollout to a fleet
 * pays for one durable commit per batch, not one per machine); a change that fails is retried
 * alone, so it fails with its own error and takes no other request's change with it. A route
 * passes its own `commit`, which adds its activity-log record to the same transaction.
 */
export async function applyChanges(
  db: Kysely<Database>,
  context: ChangeContext,
  changes: readonly ExtensionChange[],
  commit: (write: Write) => Promise<void> = (write) => GroupCommit.of(db).run(write),
): Promise<OperationRow[]> {
  let operations: OperationRow[] = [];
  await commit(async (trx) => {
    operations = [];
    for (const change of changes) {
      const { row } = change;
      if (change.previousSequence === undefined) {
        const values = EXTENSION_COLUMNS.map((column) => row[column]);
        const inserted = await insertExtension.run(trx, ...values);
        if (inserted.numAffectedRows === 0n) throw raced(row.name);
      } else {
        const values = UPDATED_COLUMNS.map((column) => row[column]);
        const updated = await updateExtension.run(trx, ...values, row.id, change.previousSequence);
        if (updated.numAffectedRows === 0n) throw raced(row.name);
      }
      const running = await operationInProgress(trx, row.id);
      if (running !== undefined) throw busy(row.name, running);
      operations.push(
        await insertOperation(trx, {
          subscriptionId: context.subscriptionId,
          machineId: context.machineId,
          extensionId: row.id,
          kind: change.kind,
          sequence: row.sequence,
          now: context.now,
          timeoutMs: context.timeoutMs,
          createdBy: context.createdBy,
        }),
      );
    }
    await bumpGeneration(trx, context.machineId);
  });
  return operations;
}

const EXTENSION_COLUMNS = [
  'id',
  'machine_id',
  'name',
  'location',
  'tags',
  'publisher',
  'type',
  'type_handler_version',
  'resolved_version',
  'auto_upgrade_minor_version',
  'enable_automatic_upgrade',
  'force_update_tag',
  'settings',
  'protected_settings',
  'protected_key_id',
  'sequence',
  'provisioning_state',
  'instance_view',
  'created_at',
  'updated_at',
] as const satisfies readonly (keyof ExtensionRow)[];

type ExtensionValue = ExtensionRow[keyof ExtensionRow];

const rowOf = (values: readonly ExtensionValue[]): ExtensionRow =>
  Object.fromEntries(EXTENSION_COLUMNS.map((c, i) => [c, values[i]])) as ExtensionRow;

const insertExtension = preparedQuery(
  EXTENSION_COLUMNS.length,
  (db: Kysely<Database>, ...values: ExtensionValue[]) =>
    db
      .insertInto('machine_extensions')
      .values(rowOf(values))
      .onConflict((oc) => oc.column('id').doNothing()),
);

/** Every column but the key and the creation time, which an update never touches. */
const UPDATED_COLUMNS = EXTENSION_COLUMNS.filter((c) => c !== 'id' && c !== 'created_at');

/** The columns, then the key, then the sequence the stored row must still have. */
const updateExtension = preparedQuery(
  UPDATED_COLUMNS.length + 2,
  (db: Kysely<Database>, ...values: ExtensionValue[]) =>
    db
      .updateTable('machine_extensions')
      .set(Object.fromEntries(UPDATED_COLUMNS.map((c, i) => [c, values[i]])))
      .where('id', '=', values[UPDATED_COLUMNS.length] as string)
      .where('sequence', '=', values[UPDATED_COLUMNS.length + 1] as number),
);

/** Seals protected settings to the machine's agent key; never keeps or echoes them in clear. */
export async function sealFor(
  machine: Selectable<MachinesTable>,
  settings: Record<string, unknown>,
): Promise<SealedSettings> {
  const properties = JSON.parse(machine.properties) as Record<string, unknown>;
  const key = properties['clientPublicKey'];
  const noKey = (cause?: unknown): ArmError =>
    new ArmError(
      'MachineHasNoKey',
      `The machine '${machine.name}' has no agent key to seal protected settings to; connect its agent (azcmagent connect) first, or send the values in settings.`,
      { target: 'properties.protectedSettings', cause },
    );
  if (typeof key !== 'string' || key === '') throw noKey();
  try {
    return await sealProtectedSettings(settings, key);
  } catch (error) {
    throw noKey(error);
  }
}

/** The headers of an accepted operation, so that ARM clients poll it (quickly). */
export function announceOperation(
  reply: FastifyReply,
  urls: ReturnType<typeof operationUrls>,
  withLocation: boolean,
): void {
  void reply.header('Azure-AsyncOperation', urls.status);
  if (withLocation) void reply.header('Location', urls.result);
  void reply.header('Retry-After', '1');
}

function busy(name: string, running: OperationRow): ArmError {
  return new ArmError(
    'Conflict',
    `The extension '${name}' has an operation in progress (${running.kind} ${running.id}, started ${running.started_at}); wait for it to finish, then retry.`,
  );
}

function raced(name: string): ArmError {
  return new ArmError(
    'Conflict',
    `The extension '${name}' was changed by another request at the same time; retry the request.`,
  );
}
