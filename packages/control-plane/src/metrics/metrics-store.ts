// machine_metrics: at most one sample per machine and minute, keyed by (machine, collected_at)
// with collected_at the minute it was taken in, so a resent sample or a second one in a minute is
// ignored and the retention bounds a machine to about 43,200 rows; each insert also drops that
// machine's samples past the retention.
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { MetricSample } from '@tether/protocol';

export const METRICS_RETENTION_MS = 30 * 24 * 60 * 60_000;
const MINUTE_MS = 60_000;

/** Rows per INSERT, well under SQLite's and PostgreSQL's bound-parameter limits. */
const INSERT_CHUNK = 250;

export interface InsertOutcome {
  readonly stored: number;
  /** In a minute already stored or earlier in the post, or older than the retention. */
  readonly ignored: number;
}

export async function insertMetricSamples(
  db: Kysely<Database>,
  machineId: string,
  samples: readonly MetricSample[],
  nowMs: number,
): Promise<InsertOutcome> {
  const receivedAt = new Date(nowMs).toISOString();
  const keepFrom = new Date(nowMs - METRICS_RETENTION_MS).toISOString();
  // The first sample of each minute. Its minute, not its time, is held against keepFrom, as the
  // delete below does, so that nothing counted as stored is dropped at once.
  const perMinute = new Map<string, MetricSample>();
  for (const sample of samples) {
    const minute = minuteOf(sample.time);
    if (minute >= keepFrom && !perMinute.has(minute)) perMinute.set(minute, sample);
  }
  const rows = [...perMinute].map(([minute, sample]) => ({
    machine_id: machineId,
    collected_at: minute,
    received_at: receivedAt,
    sample: JSON.stringify(sample),
  }));
  const stored = await db.transaction().execute(async (trx) => {
    let inserted = 0n;
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      const result = await trx
        .insertInto('machine_metrics')
        .values(rows.slice(i, i + INSERT_CHUNK))
        .onConflict((oc) => oc.columns(['machine_id', 'collected_at']).doNothing())
        .executeTakeFirst();
      inserted += result.numInsertedOrUpdatedRows ?? 0n;
    }
    await trx
      .deleteFrom('machine_metrics')
      .where('machine_id', '=', machineId)
      .where('collected_at', '<', keepFrom)
      .execute();
    return Number(inserted);
  });
  return { stored, ignored: samples.length - stored };
}

/** Samples whose minute is in `start <= minute < end`, oldest first. */
export async function readMetricSamples(
  db: Kysely<Database>,
  machineId: string,
  startMs: number,
  endMs: number,
): Promise<MetricSample[]> {
  const rows = await db
    .selectFrom('machine_metrics')
    .select('sample')
    .where('machine_id', '=', machineId)
    .where('collected_at', '>=', new Date(startMs).toISOString())
    .where('collected_at', '<', new Date(endMs).toISOString())
    .orderBy('collected_at')
    .execute();
  return rows.map((row) => JSON.parse(row.sample) as MetricSample);
}

function minuteOf(time: string): string {
  return new Date(Math.floor(Date.parse(time) / MINUTE_MS) * MINUTE_MS).toISOString();
}
