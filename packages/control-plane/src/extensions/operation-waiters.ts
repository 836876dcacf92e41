// Operation-status reads held while the operation runs: an ARM client's poll is answered the
// moment the agent reports the operation done, instead of after the client's next Retry-After.
// The report may reach another node than the poll: the wake-up is published to every node.
import type { Kysely } from 'kysely';
import { clusterChannelOf } from '../cluster/cluster-channel.js';
import type { Database } from '../store/schema.js';
import { GoalStateWaiters } from './goal-state-waiters.js';

/**
 * How long one poll of a running operation is held. No longer than the Retry-After it answers
 * with, so a client never learns of the end later than by polling again.
 */
export const OPERATION_HOLD_MS = 1_000;

/** Keyed by operation id, one set per database; its own, apart from the machines' long polls. */
const BY_DATABASE = new WeakMap<object, GoalStateWaiters>();

export function operationWaitersOf(db: Kysely<Database>): GoalStateWaiters {
  let waiters = BY_DATABASE.get(db);
  if (waiters === undefined) {
    waiters = new GoalStateWaiters({ channel: clusterChannelOf(db), topic: 'extension-operation' });
    BY_DATABASE.set(db, waiters);
  }
  return waiters;
}
