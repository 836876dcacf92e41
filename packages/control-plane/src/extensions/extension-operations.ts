// Long-running extension operations as ARM reports them (Azure-AsyncOperation), and the rule
// that fails an operation its machine has not completed in time (B7, "MachineNotReached").
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import { lastHeartbeatSql } from '../machines/liveness-log.js';
import { preparedQuery } from '../store/prepared-query.js';
import type { Database } from '../store/schema.js';
import { bumpGeneration, type OperationRow } from './extension-store.js';
import { GoalStateWaiters } from './goal-state-waiters.js';

export interface OperationError {
  code: string;
  message: string;
}

function operationsPath(subscriptionId: string, location: string, kind: string): string {
  return `/subscriptions/${subscriptionId}/providers/Microsoft.HybridCompute/locations/${location}/${kind}`;
}

/** The absolute URLs a client polls: `Azure-AsyncOperation` and, for deletes, `Location`. */
export function operationUrls(
  publicUrl: string,
  operation: Pick<OperationRow, 'id' | 'subscription_id'>,
  location: string,
  apiVersion: string,
): { status: string; result: string } {
  const base = publicUrl.replace(/\/+$/, '');
  const query = `?api-version=${encodeURIComponent(apiVersion)}`;
  const at = (kind: string): string =>
    `${base}${operationsPath(operation.subscription_id, location, kind)}/${operation.id}${query}`;
  return { status: at('operationStatuses'), result: at('operationResults') };
}

export function renderOperation(row: OperationRow, location: string): object {
  return {
    id: `${operationsPath(row.subscription_id, location, 'operationStatuses')}/${row.id}`,
    name: row.id,
    status: row.status,
    startTime: row.started_at,
    ...(row.ended_at === null ? {} : { endTime: row.ended_at }),
    // When a request the machine has not completed fails: what a client waiting on it shows.
    ...(row.ended_at === null ? { properties: { expiresOn: row.deadline_at } } : {}),
    ...(row.error === null ? {} : { error: JSON.parse(row.error) as OperationError }),
  };
}

/** One of them, the narrowest wins; none: every operation. */
export interface OverdueFilter {
  machineId?: string;
  extensionId?: string;
  operationId?: string;
}

const overdueWhere = (db: Kysely<Database>, now: string) =>
  db
    .selectFrom('extension_operations')
    .selectAll()
    .where('status', '=', 'InProgress')
    .where('deadline_at', '<=', now);
const overdueAll = preparedQuery(1, overdueWhere);
const overdueOfMachine = preparedQuery(2, (db: Kysely<Database>, now: string, id: string) =>
  overdueWhere(db, now).where('machine_id', '=', id),
);
const overdueOfExtension = preparedQuery(2, (db: Kysely<Database>, now: string, id: string) =>
  overdueWhere(db, now).where('extension_id', '=', id),
);
const overdueOperation = preparedQuery(2, (db: Kysely<Database>, now: string, id: string) =>
  overdueWhere(db, now).where('id', '=', id),
);

/**
 * Fails every operation still InProgress past its deadline (matching `filter`): the operation
 * with `MachineNotReached`, its extension `Failed`. Run before each read and by a periodic
 * sweep, so neither an idle server nor a missed sweep leaves one running. Returns how many.
 */
export async function expireOverdueOperations(
  db: Kysely<Database>,
  clock: Clock,
  filter: OverdueFilter = {},
): Promise<number> {
  const now = new Date(clock.now()).toISOString();
  const overdue =
    filter.operationId !== undefined
      ? await overdueOperation.rows(db, now, filter.operationId)
      : filter.extensionId !== undefined
        ? await overdueOfExtension.rows(db, now, filter.extensionId)
        : filter.machineId !== undefined
          ? await overdueOfMachine.rows(db, now, filter.machineId)
          : await overdueAll.rows(db, now);
  const woken = new Set<string>();
  let expiredCount = 0;
  for (const operation of overdue) {
    const error = await notReached(db, operation);
    const expired = await db.transaction().execute(async (trx) => {
      const updated = await trx
        .updateTable('extension_operations')
        .set({ status: 'Failed', error: JSON.stringify(error), ended_at: now })
        .where('id', '=', operation.id)
        .where('status', '=', 'InProgress')
        .executeTakeFirst();
      if (updated.numUpdatedRows === 0n) return false;
      // A failed delete keeps the resource (Failed) so that it can be retried.
      await trx
        .updateTable('machine_extensions')
        .set({ provisioning_state: 'Failed', updated_at: now })
        .where('id', '=', operation.extension_id)
        .where('sequence', '=', operation.sequence)
        .execute();
      await bumpGeneration(trx, operation.machine_id);
      return true;
    });
    if (expired) {
      expiredCount += 1;
      woken.add(operation.machine_id);
    }
  }
  const waiters = GoalStateWaiters.of(db);
  for (const machineId of woken) waiters.wake(machineId);
  return expiredCount;
}

async function notReached(db: Kysely<Database>, operation: OperationRow): Promise<OperationError> {
  const agent = await db
    .selectFrom('machine_agents')
    .select(lastHeartbeatSql().as('last_heartbeat_at'))
    .where('machine_id', '=', operation.machine_id)
    .executeTakeFirst();
  const seen =
    agent?.last_heartbeat_at == null
      ? 'the machine has never connected'
      : `the machine was last seen at ${agent.last_heartbeat_at}`;
  const waited = Date.parse(operation.deadline_at) - Date.parse(operation.started_at);
  const machine = operation.machine_id.split('/').pop() ?? operation.machine_id;
  const extension = operation.extension_id.split('/').pop() ?? operation.extension_id;
  return {
    code: 'MachineNotReached',
    message: `The ${operation.kind} of extension '${extension}' was not completed by machine '${machine}' within ${formatWait(waited)} of the request: ${seen}. Check that its agent is running and connected, then retry.`,
  };
}

function formatWait(ms: number): string {
  const units: [number, string][] = [
    [3_600_000, 'hour'],
    [60_000, 'minute'],
    [1000, 'second'],
  ];
  for (const [size, name] of units) {
    if (ms >= size && ms % size === 0) return `${ms / size} ${name}${ms === size ? '' : 's'}`;
  }
  return `${ms} ms`;
}
