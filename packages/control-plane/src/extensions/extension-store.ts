// The extension tables as the routes use them: one extension, its operation in progress, the
// machine's goal-state generation, and removing everything of a machine with it.
import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import { preparedQuery } from '../store/prepared-query.js';
import type { Database, ExtensionOperationsTable } from '../store/schema.js';
import type { ExtensionRow } from './extension-resource.js';

export type OperationRow = Selectable<ExtensionOperationsTable>;
export type OperationKind = ExtensionOperationsTable['kind'];
type Db = Kysely<Database> | Transaction<Database>;

const extensionById = preparedQuery(1, (db: Kysely<Database>, id: string) =>
  db.selectFrom('machine_extensions').selectAll().where('id', '=', id),
);

export function findExtension(db: Db, id: string): Promise<ExtensionRow | undefined> {
  return extensionById.first(db, id);
}

const operationById = preparedQuery(1, (db: Kysely<Database>, id: string) =>
  db.selectFrom('extension_operations').selectAll().where('id', '=', id),
);

export function findOperation(db: Db, id: string): Promise<OperationRow | undefined> {
  return operationById.first(db, id);
}

const runningOperationOf = preparedQuery(1, (db: Kysely<Database>, extensionId: string) =>
  db
    .selectFrom('extension_operations')
    .selectAll()
    .where('extension_id', '=', extensionId)
    .where('status', '=', 'InProgress'),
);

export function operationInProgress(
  db: Db,
  extensionId: string,
): Promise<OperationRow | undefined> {
  return runningOperationOf.first(db, extensionId);
}

const generationOf = preparedQuery(1, (db: Kysely<Database>, machineId: string) =>
  db.selectFrom('extension_goal_states').select('generation').where('machine_id', '=', machineId),
);

export async function readGeneration(db: Db, machineId: string): Promise<number> {
  const row = await generationOf.first(db, machineId);
  return row === undefined ? 0 : Number(row.generation);
}

/** What a goal-state poll looks at before it waits, in one read. */
export interface PollStart {
  /** The machine's goal-state generation (0 before its first change). */
  readonly generation: number;
  /** Whether an operation of the machine is still InProgress past its deadline. */
  readonly overdue: boolean;
}

const pollStartOf = preparedQuery(2, (db: Kysely<Database>, machineId: string, now: string) =>
  db
    .selectFrom('machines as m')
    .leftJoin('extension_goal_states as g', 'g.machine_id', 'm.id')
    .select((eb) => [
      'g.generation',
      eb
        .exists(
          eb
            .selectFrom('extension_operations as o')
            .select('o.id')
            .whereRef('o.machine_id', '=', 'm.id')
            .where('o.status', '=', 'InProgress')
            .where('o.deadline_at', '<=', now),
        )
        .as('overdue'),
    ])
    .where('m.id', '=', machineId),
);

/**
 * The machine's generation and whether it has an overdue operation, or undefined when the
 * machine does not exist: what a poll checks before it waits, in one query instead of three.
 */
export async function readPollStart(
  db: Db,
  machineId: string,
  now: string,
): Promise<PollStart | undefined> {
  const row = await pollStartOf.first(db, machineId, now);
  if (row === undefined) return undefined;
  // PostgreSQL answers EXISTS with a boolean, SQLite with 0 or 1.
  return { generation: Number(row.generation ?? 0), overdue: Number(row.overdue) === 1 };
}

const nextGeneration = preparedQuery(1, (db: Kysely<Database>, machineId: string) =>
  db
    .insertInto('extension_goal_states')
    .values({ machine_id: machineId, generation: 1 })
    .onConflict((oc) =>
      oc
        .column('machine_id')
        .doUpdateSet({ generation: sql<number>`extension_goal_states.generation + 1` }),
    ),
);

/** Every change the agent must see goes through here, in the transaction that makes it. */
export async function bumpGeneration(trx: Db, machineId: string): Promise<void> {
  await nextGeneration.run(trx, machineId);
}

export interface NewOperation {
  subscriptionId: string;
  machineId: string;
  extensionId: string;
  kind: OperationKind;
  sequence: number;
  now: number;
  timeoutMs: number;
  createdBy: string;
}

export async function insertOperation(trx: Db, operation: NewOperation): Promise<OperationRow> {
  const row: OperationRow = {
    id: randomUUID(),
    subscription_id: operation.subscriptionId,
    machine_id: operation.machineId,
    extension_id: operation.extensionId,
    kind: operation.kind,
    sequence: operation.sequence,
    status: 'InProgress',
    error: null,
    started_at: new Date(operation.now).toISOString(),
    deadline_at: new Date(operation.now + operation.timeoutMs).toISOString(),
    delivered_at: null,
    ended_at: null,
    created_by: operation.createdBy,
  };
  await insertOperationRow.run(trx, ...OPERATION_COLUMNS.map((column) => row[column]));
  return row;
}

const OPERATION_COLUMNS = [
  'id',
  'subscription_id',
  'machine_id',
  'extension_id',
  'kind',
  'sequence',
  'status',
  'error',
  'started_at',
  'deadline_at',
  'delivered_at',
  'ended_at',
  'created_by',
] as const satisfies readonly (keyof OperationRow)[];

const insertOperationRow = preparedQuery(
  OPERATION_COLUMNS.length,
  (db: Kysely<Database>, ...values: OperationRow[keyof OperationRow][]) =>
    db
      .insertInto('extension_operations')
      .values(Object.fromEntries(OPERATION_COLUMNS.map((c, i) => [c, values[i]])) as OperationRow),
);

/** A machine's extensions, their operations and its goal state go with the machine. */
export async function deleteMachineExtensions(trx: Db, machineId: string): Promise<void> {
  await trx.deleteFrom('machine_extensions').where('machine_id', '=', machineId).execute();
  await trx.deleteFrom('extension_operations').where('machine_id', '=', machineId).execute();
  await trx.deleteFrom('extension_goal_states').where('machine_id', '=', machineId).execute();
}
