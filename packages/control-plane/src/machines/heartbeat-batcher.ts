// Group commit for heartbeats: those arriving within a few milliseconds are written in one
// transaction, and each is answered only once that transaction is durable. A heartbeat whose
// report is the one on record (by its hash) and whose machine has not been silent long enough to
// disconnect appends (machine, time) to the liveness log (liveness-log.ts); any other rewrites the
// machine's agent row with its report and time, as the log's fold later does with the time alone.
import { sql, type CompiledQuery, type Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import type { Database } from '../store/schema.js';
import {
  syncTransactionOf,
  type ParameterSet,
  type SyncTransaction,
} from '../store/statement-batch.js';
import type { MachineTimings } from './machine-timings.js';

export interface HeartbeatWrite {
  machineId: string;
  /** JSON of the report. */
  report: string;
  /** Its hash (reportHashOf). */
  reportHash: string;
}

/** What the heartbeat answer needs; undefined when the machine has no agent row (deleted). */
export interface HeartbeatRecord {
  credentialExpiresAt: string;
  rotationRequested: boolean;
}

interface RecordRow {
  credential_expires_at: string;
  rotation_requested: number;
}

/** Placeholders the statements compiled once are filled in at. */
const STAMP = '\u0000stamp';
const GAP_START = '\u0000gap-start';
const REPORT = '\u0000report';
const REPORT_HASH = '\u0000report-hash';
const MACHINE_ID = '\u0000machine-id';

interface Pending extends HeartbeatWrite {
  resolve(record: HeartbeatRecord | undefined): void;
  reject(error: unknown): void;
}

export interface HeartbeatBatcherOptions {
  /** How long the first heartbeat of a batch waits for company. */
  windowMs?: number;
  /** A batch this large is written at once. */
  maxBatch?: number;
}

/** The values of one heartbeat's statements, by placeholder. */
type Values = Readonly<Record<string, string>>;

/** A statement compiled once for its dialect, filled in per heartbeat. */
class Filled<R> {
  constructor(readonly query: CompiledQuery<R>) {}

  parameters(values: Readonly<Record<string, unknown>>): ParameterSet {
    return this.query.parameters.map((p) => (typeof p === 'string' ? (values[p] ?? p) : p));
  }

  /** The statement with `values` in place. */
  with(values: Readonly<Record<string, unknown>>): CompiledQuery<R> {
    return { ...this.query, parameters: this.parameters(values) };
  }
}

export class HeartbeatBatcher {
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly windowMs: number;
  private readonly maxBatch: number;
  private readonly write: (batch: readonly Values[]) => Promise<(RecordRow | undefined)[]>;

  constructor(
    db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly timings: Pick<MachineTimings, 'disconnectAfterMs'>,
    options: HeartbeatBatcherOptions = {},
  ) {
    this.windowMs = options.windowMs ?? 2;
    this.maxBatch = options.maxBatch ?? 512;
    const sync = syncTransactionOf(db);
    this.write = sync === undefined ? batchedStatement(db) : syncStatements(db, sync);
  }

  submit(write: HeartbeatWrite): Promise<HeartbeatRecord | undefined> {
    return new Promise((resolve, reject) => {
      const { machineId, report, reportHash } = write;
      this.pending.push({ machineId, report, reportHash, resolve, reject });
      if (this.pending.length >= this.maxBatch) this.flushSoon(0);
      else this.flushSoon(this.windowMs);
    });
  }

  private flushSoon(delayMs: number): void {
    if (this.timer !== undefined) {
      if (delayMs > 0) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, delayMs);
  }

  /** Writes everything pending in one transaction; settles each heartbeat after the commit. */
  async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const now = this.clock.now();
    const stamp = new Date(now).toISOString();
    // A heartbeat after a silence long enough to disconnect starts a new Connected run.
    const gapStart = new Date(now - this.timings.disconnectAfterMs).toISOString();
    const values = batch.map((write): Values => ({
      [STAMP]: stamp,
      [GAP_START]: gapStart,
      [REPORT]: write.report,
      [REPORT_HASH]: write.reportHash,
      [MACHINE_ID]: write.machineId,
    }));
    try {
      const rows = await this.write(values);
      batch.forEach((p, i) => {
        const row = rows[i];
        p.resolve(
          row === undefined
            ? undefined
            : {
                credentialExpiresAt: row.credential_expires_at,
                rotationRequested: row.rotation_requested !== 0,
              },
        );
      });
    } catch (error) {
      for (const p of batch) p.reject(error);
    }
  }
}

/**
 * The Connected run goes on when the row's time or an unfolded one is recent enough; otherwise
 * this heartbeat starts a new one.
 */
const CONNECTED_SINCE = sql<string>`case when (last_heartbeat_at is null or last_heartbeat_at < ${GAP_START})
  and not exists (select 1 from liveness_log where liveness_log.machine_id = machine_agents.machine_id
    and liveness_log.at >= ${GAP_START} and liveness_log.at > machine_agents.onboarded_at)
  then ${STAMP} else connected_since end`;

/** The full write: the report, its hash and the time into the agent row. */
function fullUpdate(db: Kysely<Database>) {
  return db
    .updateTable('machine_agents')
    .set({
      last_heartbeat_at: STAMP,
      connected_since: CONNECTED_SINCE,
      report: REPORT,
      report_hash: REPORT_HASH,
    })
    .where('machine_id', '=', MACHINE_ID)
    .returning(['credential_expires_at', 'rotation_requested']);
}

/**
 * The agent row when this heartbeat may go to the log: same report, and its time on record is
 * recent enough that the Connected run goes on (a row behind its unfolded entries only sends
 * the heartbeat the full way, which is as correct).
 */
function unchanged(db: Kysely<Database>) {
  return db
    .selectFrom('machine_agents')
    .select(['credential_expires_at', 'rotation_requested'])
    .where('machine_id', '=', MACHINE_ID)
    .where('report_hash', '=', REPORT_HASH)
    .where('last_heartbeat_at', '>=', GAP_START);
}

/**
 * SQLite: per heartbeat, the lookup and then either the log's append or the full update, all of
 * the batch in one synchronous transaction (one commit, one flush).
 */
function syncStatements(
  db: Kysely<Database>,
  sync: SyncTransaction,
): (batch: readonly Values[]) => Promise<(RecordRow | undefined)[]> {
  const lookup = new Filled(unchanged(db).compile());
  const append = new Filled(
    db
      .insertInto('liveness_log')
      .values({ machine_id: MACHINE_ID, at: STAMP })
      .onConflict((c) => c.doNothing())
      .compile(),
  );
  const update = new Filled(fullUpdate(db).compile());
  return (batch) =>
    sync((run) =>
      batch.map((values) => {
        const [same] = run(lookup.query.sql, lookup.parameters(values)) as RecordRow[];
        if (same !== undefined) {
          run(append.query.sql, append.parameters(values));
          return same;
        }
        return (run(update.query.sql, update.parameters(values)) as RecordRow[])[0];
      }),
    );
}

/** Placeholders of the PostgreSQL batch: the batch's columns, as arrays. */
const MACHINE_IDS = '\u0000machine-ids';
const REPORTS = '\u0000reports';
const REPORT_HASHES = '\u0000report-hashes';

interface NumberedRow extends RecordRow {
  /** The heartbeat's place in the batch, from 1 (int8: a string from the driver). */
  n: string | number;
}

/**
 * PostgreSQL: the whole batch in one statement (so one round trip, and atomic on its own). Data-
 * modifying statements in WITH all see the rows as they were: heartbeats whose row `same` found
 * are appended to the log, the others update their rows (the batch's last one per machine), and
 * each gets its row's credential back by its place in the batch.
 */
function batchedStatement(
  db: Kysely<Database>,
): (batch: readonly Values[]) => Promise<(RecordRow | undefined)[]> {
  const statement = new Filled(
    sql<NumberedRow>`with input as (
        select * from unnest(${MACHINE_IDS}::text[], ${REPORTS}::text[], ${REPORT_HASHES}::text[])
          with ordinality as input(machine_id, report, report_hash, n)),
      same as (
        select input.n, machine_agents.credential_expires_at, machine_agents.rotation_requested
        from input join machine_agents on machine_agents.machine_id = input.machine_id
        where machine_agents.report_hash = input.report_hash
          and machine_agents.last_heartbeat_at >= ${GAP_START}),
      appended as (
        insert into liveness_log (machine_id, at)
        select distinct input.machine_id, ${STAMP} from input join same on same.n = input.n
        on conflict do nothing),
      changed as (
        select distinct on (input.machine_id) input.machine_id, input.report, input.report_hash
        from input where not exists (select 1 from same where same.n = input.n)
        order by input.machine_id, input.n desc),
      updated as (
        update machine_agents set last_heartbeat_at = ${STAMP}, connected_since = ${CONNECTED_SINCE},
          report = changed.report, report_hash = changed.report_hash
        from changed where machine_agents.machine_id = changed.machine_id
        returning machine_agents.machine_id, machine_agents.credential_expires_at,
          machine_agents.rotation_requested)
      select n, credential_expires_at, rotation_requested from same
      union all
      select input.n, updated.credential_expires_at, updated.rotation_requested
      from input join updated on updated.machine_id = input.machine_id
      where not exists (select 1 from same where same.n = input.n)`.compile(db),
  );
  return async (batch) => {
    const first = batch[0];
    if (first === undefined) return [];
    const { rows } = await db.executeQuery(
      statement.with({
        ...first,
        [MACHINE_IDS]: batch.map((values) => values[MACHINE_ID] ?? ''),
        [REPORTS]: batch.map((values) => values[REPORT] ?? ''),
        [REPORT_HASHES]: batch.map((values) => values[REPORT_HASH] ?? ''),
      }),
    );
    const out = new Array<RecordRow | undefined>(batch.length).fill(undefined);
    for (const row of rows) out[Number(row.n) - 1] = row;
    return out;
  };
}
