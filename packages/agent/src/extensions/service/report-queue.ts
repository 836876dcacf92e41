// Status reports waiting for the control plane, sent in order and retried with full-jitter
// backoff while it cannot be reached (B7). Kept in memory: after a restart the operations are
// still InProgress in the goal state and are carried out and reported again.
import { DEFAULT_BACKOFF, fullJitterDelay, type BackoffPolicy } from '../../himds/backoff.js';
import type { Scheduler } from '../../scheduler.js';
import type { ExtensionApi } from './extension-api.js';
import type { StatusReport } from './status-report.js';

/** Beyond this, the oldest status-only reports (no operation to complete) make room. */
const MAX_PENDING = 1_000;

export interface ReportQueueOptions {
  readonly api: Pick<ExtensionApi, 'reportStatus'>;
  readonly scheduler: Scheduler;
  readonly random: () => number;
  readonly backoff?: BackoffPolicy;
  readonly log: (line: string) => void;
}

export class ReportQueue {
  private readonly pending: StatusReport[] = [];
  private sending = false;
  private stopped = false;
  private failures = 0;
  private lastError: string | undefined;
  private cancelTimer: (() => void) | undefined;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(private readonly options: ReportQueueOptions) {}

  get size(): number {
    return this.pending.length;
  }

  send(report: StatusReport): void {
    if (this.stopped) return;
    this.pending.push(report);
    if (this.pending.length > MAX_PENDING) {
      const index = this.pending.findIndex((item) => item.operationId === null);
      this.pending.splice(index >= 0 ? index : 0, 1);
    }
    this.kick();
  }

  /** Resolves once nothing is waiting to be sent (or the queue stopped). */
  idle(): Promise<void> {
    if (this.pending.length === 0 || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.settleIdle();
  }

  private kick(): void {
    if (this.sending || this.cancelTimer !== undefined || this.stopped) return;
    void this.flush();
  }

  private async flush(): Promise<void> {
    this.sending = true;
    const { api, log } = this.options;
    for (let report = this.pending[0]; report !== undefined; report = this.pending[0]) {
      if (this.stopped) break;
      let result: Awaited<ReturnType<ExtensionApi['reportStatus']>>;
      try {
        result = await api.reportStatus(report);
      } catch (error) {
        this.failures += 1;
        const message = (error as Error).message;
        if (message !== this.lastError) {
          log(`cannot send the status of ${report.name}: ${message} (kept; retrying with backoff)`);
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
        return;
      }
      if (this.pending[0] === report) this.pending.shift();
      if (this.failures > 0) log(`status reports reach the control plane again`);
      this.failures = 0;
      this.lastError = undefined;
      if (result !== 'accepted') {
        const operation = report.operationId === null ? '' : ` (operation ${report.operationId})`;
        log(`status of ${report.name}${operation} not taken, dropped: ${result.dropped}`);
      }
    }
    this.sending = false;
    this.settleIdle();
  }

  private settleIdle(): void {
    if (this.pending.length > 0 && !this.stopped) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
