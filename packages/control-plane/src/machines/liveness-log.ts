// The liveness log (migration 0021): a heartbeat whose report did not change appends (machine,
// time) to liveness_log in its group commit instead of rewriting the machine's agent row, and a
// background fold moves the newest time per machine into machine_agents.last_heartbeat_at and
// deletes the entries it folded. Until then every read of a last heartbeat takes the newer of the
// row's time and the machine's entries (lastHeartbeatSql), so what a read sees never depends on
// when the fold last ran.
import { setImmediate as yieldToEvents } from 'node:timers/promises';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../store/schema.js';

/**
 * A machine's last heartbeat as SQL over its agent row (`agents`, a table name or alias in the
 * query): the row's time, or the newest unfolded entry when that is newer. Entries from before
 * the row's machine was onboarded (a deleted machine of the same name) do not count. A seek on
 * the log's key; null when the machine never sent one (or has no agent row).
 */
export function lastHeartbeatSql(agents = 'machine_agents'): RawBuilder<string | null> {
  const last = sql.ref(`${agents}.last_heartbeat_at`);
  return sql<
    string | null
  >`coalesce((select max(liveness_log.at) from liveness_log where liveness_log.machine_id = ${sql.ref(`${agents}.machine_id`)} and liveness_log.at > coalesce(${last}, ${sql.ref(`${agents}.onboarded_at`)})), ${last})`;
}

/**
 * How often the server (over PostgreSQL, the leader) folds the log. Reads never wait for it:
 * the interval only bounds how long the log grows.
 */
export const LIVENESS_FOLD_MS = 60_000;

/** Machines folded per transaction: each is short, and requests run in between. */
const FOLD_CHUNK = 500;

/**
 * Folds the log into the agent rows: each machine's newest entry becomes its last heartbeat when
 * newer than the row's, and every entry the row now covers is deleted, a chunk of machines per
 * transaction. A heartbeat appended meanwhile is newer than what the fold read, so it stays in
 * the log (it is deleted only once a row holds a time at least as new); a row's time never moves
 * back. Entries of machines that no longer have an agent row are deleted. Returns how many rows
 * it moved forward.
 */
export interface FoldOptions {
  /** Machines per transaction. */
  chunk?: number;
  /**
   * Runs inside each chunk's transaction between moving the times and deleting the entries: a
   * test's way to make a heartbeat arrive exactly then.
   */
  afterMove?: (trx: Kysely<Database>) => Promise<void>;
  /**
   * Once aborted (the server shutting down), the fold stops before its next chunk; what it has
   * not folded stays in the log, where reads see it, for the next fold.
   */
  signal?: AbortSignal;
}

export async function foldLivenessLog(
  db: Kysely<Database>,
  options: FoldOptions = {},
): Promise<number> {
  const chunk = options.chunk ?? FOLD_CHUNK;
  let after = '';
  let folded = 0;
  for (;;) {
    if (options.signal?.aborted === true) return folded;
    const { rows } = await sql<{ last: string | null }>`select max(machine_id) as last from
      (select distinct machine_id from liveness_log where machine_id > ${after}
        order by machine_id limit ${chunk}) chunk`.execute(db);
    const last = rows[0]?.last ?? null;
    if (last === null) return folded;
    const from = after;
    folded += await db.transaction().execute(async (trx) => {
      const moved = await sql`update machine_agents set last_heartbeat_at = newest.at
        from (select machine_id, max(at) as at from liveness_log
          where machine_id > ${from} and machine_id <= ${last} group by machine_id) newest
        where machine_agents.machine_id = newest.machine_id
          and newest.at > coalesce(machine_agents.last_heartbeat_at, machine_agents.onboarded_at)`.execute(
        trx,
      );
      await options.afterMove?.(trx);
      await sql`delete from liveness_log
        where machine_id > ${from} and machine_id <= ${last}
          and not exists (select 1 from machine_agents
            where machine_agents.machine_id = liveness_log.machine_id
              and liveness_log.at > coalesce(machine_agents.last_heartbeat_at, machine_agents.onboarded_at))`.execute(
        trx,
      );
      return Number(moved.numAffectedRows ?? 0);
    });
    after = last;
    await yieldToEvents();
  }
}

/** Every unfolded entry of a machine, for when the machine's identity is deleted. */
export async function forgetLiveness(db: Kysely<Database>, machineId: string): Promise<void> {
  await db.deleteFrom('liveness_log').where('machine_id', '=', machineId).execute();
}
