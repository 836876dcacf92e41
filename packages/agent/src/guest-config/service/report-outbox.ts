// Compliance reports (and "disabled here" notices) waiting for the control plane, one file each
// in a root-only folder, so a restart or weeks without contact lose none. Sent in order, in
// batches, retried with full-jitter backoff. Bounded: a report that only repeats the queued
// result of the same assignment replaces it (every change of result is kept), and past the
// hard limit the oldest entries go, logged.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type {
  GuestConfigurationAssignmentReport,
  GuestConfigurationReportUpload,
} from '@tether/protocol';
import { replaceFileAtomically } from '../../config/atomic-file.js';
import { DEFAULT_BACKOFF, fullJitterDelay, type BackoffPolicy } from '../../himds/backoff.js';
import type { Scheduler } from '../../scheduler.js';
import type { GuestConfigurationApi } from './guest-configuration-api.js';
import { ensureRootOnlyFolder } from './gc-cache.js';

/** At most this many entries wait; 50 assignments changing result hourly fill it in ~2 days. */
export const MAX_OUTBOX_ENTRIES = 5_000;
const MAX_BATCH = 50;

interface Entry {
  readonly file: string;
  readonly upload: GuestConfigurationReportUpload;
}

export interface ReportOutboxOptions {
  readonly dir: string;
  readonly api: Pick<GuestConfigurationApi, 'uploadReports'>;
  readonly scheduler: Scheduler;
  readonly random: () => number;
  readonly backoff?: BackoffPolicy;
  readonly log: (line: string) => void;
  /** After every upload that went through (contact with the control plane). */
  readonly onDelivered?: () => void;
  readonly maxEntries?: number;
}

export class ReportOutbox {
  private readonly entries: Entry[];
  private nextSequence: number;
  private inFlight: readonly Entry[] = [];
  private sending = false;
  private stopped = false;
  private failures = 0;
  private lastError: string | undefined;
  private cancelTimer: (() => void) | undefined;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(private readonly options: ReportOutboxOptions) {
    this.entries = this.load();
    const last = this.entries.at(-1);
    this.nextSequence = last === undefined ? 1 : sequenceOf(last.file) + 1;
  }

  get size(): number {
    return this.entries.length;
  }

  /** What waits, oldest first. */
  pending(): readonly GuestConfigurationReportUpload[] {
    return this.entries.map((entry) => entry.upload);
  }

  add(upload: GuestConfigurationReportUpload): void {
    if (this.stopped) return;
    this.coalesce(upload);
    const file = join(this.options.dir, `${String(this.nextSequence++).padStart(12, '0')}.json`);
    try {
      ensureRootOnlyFolder(this.options.dir);
      replaceFileAtomically(file, JSON.stringify(upload), {
        mode: 0o600,
        ownerUid: process.geteuid?.() ?? 0,
        ownerGid: process.getegid?.() ?? 0,
      });
    } catch (error) {
      // Still sent from memory; only a restart before then would lose it.
      this.options.log(`cannot keep a report on disk: ${(error as Error).message}`);
    }
    this.entries.push({ file, upload });
    const limit = this.options.maxEntries ?? MAX_OUTBOX_ENTRIES;
    while (this.entries.length > limit) {
      const index = this.entries.findIndex((entry) => !this.inFlight.includes(entry));
      const [dropped] = this.entries.splice(index, 1);
      if (dropped === undefined) break;
      rmSync(dropped.file, { force: true });
      this.options.log(`more than ${limit} reports wait to be sent; the oldest is dropped`);
    }
    this.kick();
  }

  /** Sends now (after contact came back), without waiting out the backoff. */
  retryNow(): void {
    if (this.cancelTimer === undefined) return;
    this.cancelTimer();
    this.cancelTimer = undefined;
    this.kick();
  }

  /** Resolves once nothing waits, or the control plane cannot be reached right now. */
  idle(): Promise<void> {
    if (this.entries.length === 0 || this.stopped || (!this.sending && this.failures > 0)) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.settleIdle();
  }

  private coalesce(upload: GuestConfigurationReportUpload): void {
    const report = upload.reports.length === 1 ? upload.reports[0] : undefined;
    const notice = upload.disabledReason !== undefined;
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const entry = this.entries[i];
      if (entry === undefined || this.inFlight.includes(entry)) return;
      const queued = entry.upload;
      if (notice) {
        // Only the latest notice matters; reports made before it still go first.
        if (queued.disabledReason === undefined) return;
      } else {
        if (queued.disabledReason !== undefined) return;
        const previous = queued.reports.length === 1 ? queued.reports[0] : undefined;
        if (previous?.assignmentName !== report?.assignmentName) continue;
        if (report === undefined || previous === undefined || !sameResult(previous, report)) {
          return;
        }
      }
      this.entries.splice(i, 1);
      rmSync(entry.file, { force: true });
      return;
    }
  }

  private kick(): void {
    if (this.sending || this.cancelTimer !== undefined || this.stopped) return;
    void this.flush();
  }

  private async flush(): Promise<void> {
    this.sending = true;
    const { api, log } = this.options;
    while (!this.stopped && this.entries.length > 0) {
      const batch = this.nextBatch();
      this.inFlight = batch;
      const upload: GuestConfigurationReportUpload =
        batch.length === 1 && batch[0] !== undefined
          ? batch[0].upload
          : { reports: batch.flatMap((entry) => entry.upload.reports) };
      let result: Awaited<ReturnType<GuestConfigurationApi['uploadReports']>>;
      try {
        result = await api.uploadReports(upload);
      } catch (error) {
        this.inFlight = [];
        this.failed((error as Error).message);
        return;
      }
      this.inFlight = [];
      for (const entry of batch) {
        const index = this.entries.indexOf(entry);
        if (index >= 0) this.entries.splice(index, 1);
        rmSync(entry.file, { force: true });
      }
      if (this.failures > 0) log('compliance reports reach the control plane again');
      this.failures = 0;
      this.lastError = undefined;
      if (result !== 'accepted')
        log(`${batch.length} report(s) not taken, dropped: ${result.dropped}`);
      this.options.onDelivered?.();
    }
    this.sending = false;
    this.settleIdle();
  }

  /** Consecutive reports up to MAX_BATCH; a disabled notice always travels alone. */
  private nextBatch(): Entry[] {
    const batch: Entry[] = [];
    for (const entry of this.entries) {
      const notice = entry.upload.disabledReason !== undefined;
      if (notice) return batch.length === 0 ? [entry] : batch;
      batch.push(entry);
      if (batch.length >= MAX_BATCH) break;
    }
    return batch;
  }

  private failed(message: string): void {
    this.failures += 1;
    if (message !== this.lastError) {
      this.options.log(
        `cannot send ${this.entries.length} compliance report(s): ${message} (kept on disk; retrying with backoff)`,
      );
    }
    this.lastError = message;
    const policy = this.options.backoff ?? DEFAULT_BACKOFF;
    const delayMs = Math.max(
      policy.baseMs,
      fullJitterDelay(this.failures, policy, this.options.random),
    );
    this.sending = false;
    if (!this.stopped) {
      this.cancelTimer = this.options.scheduler.schedule(delayMs, () => {
        this.cancelTimer = undefined;
        this.kick();
      });
    }
    this.settleIdle();
  }

  private settleIdle(): void {
    if (this.entries.length > 0 && !this.stopped && (this.sending || this.failures === 0)) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private load(): Entry[] {
    let names: string[];
    try {
      names = readdirSync(this.options.dir).filter((name) => /^\d{12}\.json$/.test(name));
    } catch {
      return [];
    }
    const entries: Entry[] = [];
    for (const name of names.sort()) {
      const file = join(this.options.dir, name);
      try {
        const upload = JSON.parse(readFileSync(file, 'utf8')) as GuestConfigurationReportUpload;
        if (!Array.isArray(upload.reports)) throw new Error('no reports list');
        entries.push({ file, upload });
      } catch (error) {
        this.options.log(
          `queued report ${file} is unreadable and dropped: ${(error as Error).message}`,
        );
        rmSync(file, { force: true });
      }
    }
    return entries;
  }
}

function sequenceOf(file: string): number {
  return Number(file.slice(file.lastIndexOf('/') + 1, -'.json'.length));
}

/** The same outcome for the same trigger: nothing a person would learn from both. */
function sameResult(
  a: GuestConfigurationAssignmentReport,
  b: GuestConfigurationAssignmentReport,
): boolean {
  if (a.operationType === 'Initial' || b.operationType === 'Initial') return false;
  if (a.evaluationRequest !== b.evaluationRequest) return false;
  if (a.complianceStatus !== b.complianceStatus || a.version !== b.version) return false;
  const statuses = (r: GuestConfigurationAssignmentReport): string =>
    JSON.stringify(r.resources.map((x) => [x.resourceId, x.complianceStatus, x.reasons]));
  return statuses(a) === statuses(b);
}
