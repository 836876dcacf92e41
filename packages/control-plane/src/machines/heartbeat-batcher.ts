// Group commit for heartbeats: those arriving within a few milliseconds are written in one
// transaction, and each is answered only once that transaction is durable.
import { sql, type CompiledQuery, type Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import type { Database } from '../store/schema.js';
import { statementBatchesOf, type StatementBatches } from '../store/statement-batch.js';
import type { MachineTimings } from './machine-timings.js';

export interface HeartbeatWrite {
  machineId: string;
  /** JSON of the report. */
  report: string;
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

/** Placeholders the one-time compiled update is filled in at. */
const STAMP = '\u0000stamp';
const GAP_START = '\u0000gap-start';
const REPORT = '\u0000report';
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

export class HeartbeatBatcher {
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly windowMs: number;
  private readonly maxBatch: number;
  private readonly update: CompiledQuery<RecordRow>;
  private readonly batches: StatementBatches;

  constructor(
    db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly timings: Pick<MachineTimings, 'disconnectAfterMs'>,
    options: HeartbeatBatcherOptions = {},
  ) {
    this.windowMs = options.windowMs ?? 2;
    this.maxBatch = options.maxBatch ?? 512;
    this.batches = statementBatchesOf(db);
    // Built once: building and compiling it per row cost more than SQLite's own work.
    this.update = db
      .updateTable('machine_agents')
      .set({
        last_heartbeat_at: STAMP,
        connected_since: sql<string>`case when last_heartbeat_at is null or last_heartbeat_at < ${GAP_START} then ${STAMP} else connected_since end`,
        report: REPORT,
      })
      .where('machine_id', '=', MACHINE_ID)
      .returning(['credential_expires_at', 'rotation_requested'])
      .compile();
  }

  submit(write: HeartbeatWrite): Promise<HeartbeatRecord | undefined> {
    return new Promise((resolve, reject) => {
      this.pending.push({ machineId: write.machineId, report: write.report, resolve, reject });
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
    const template = this.update.parameters;
    const parameterSets = batch.map((write) =>
      template.map((p) =>
        p === STAMP
          ? stamp
          : p === GAP_START
            ? gapStart
            : p === REPORT
              ? write.report
              : p === MACHINE_ID
                ? write.machineId
                : p,
      ),
    );
    try {
      const results = await this.batches.run(this.update, parameterSets);
      const records = results.map(([row]) =>
        row === undefined
          ? undefined
          : {
              credentialExpiresAt: row.credential_expires_at,
              rotationRequested: row.rotation_requested !== 0,
            },
      );
      batch.forEach((p, i) => p.resolve(records[i]));
    } catch (error) {
      for (const p of batch) p.reject(error);
    }
  }
}
