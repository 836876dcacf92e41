// The periodic half of B7: fails overdue extension operations on a timer, so that a machine
// waiting on its goal state hears of it even when nobody reads the operation.
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import type { Database } from '../store/schema.js';
import { expireOverdueOperations } from './extension-operations.js';

const MAX_SWEEP_INTERVAL_MS = 60_000;

/** How often to sweep for a timeout: once a minute, more often for very short timeouts. */
export function sweepIntervalFor(timeoutMs: number): number {
  return Math.max(1000, Math.min(MAX_SWEEP_INTERVAL_MS, Math.floor(timeoutMs / 4)));
}

/** Fails every overdue operation of every machine; returns how many. */
export function sweepOverdueExtensionOperations(
  db: Kysely<Database>,
  clock: Clock,
): Promise<number> {
  return expireOverdueOperations(db, clock);
}
