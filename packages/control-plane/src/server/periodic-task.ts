// Background work on a timer (signing-key rotation, certificate renewal): one run at a time,
// failures logged rather than lost, and stop() tells a run in progress to end (its signal) and
// waits for it. A job of the whole control plane (not of this node's own files) runs only while
// `when()` says this node leads.
import type { FastifyBaseLogger } from 'fastify';

export class PeriodicTask {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly stopping = new AbortController();

  constructor(
    private readonly name: string,
    private readonly everyMs: number,
    /** A long run ends early once `signal` is aborted, which stop() does. */
    private readonly work: (signal: AbortSignal) => Promise<void>,
    private readonly log: FastifyBaseLogger,
    private readonly when: () => boolean = () => true,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.runOnce(), this.everyMs);
    this.timer.unref();
  }

  /** Runs now unless a run is already under way. */
  runOnce(): void {
    if (this.running !== undefined || this.stopping.signal.aborted || !this.when()) return;
    this.running = this.work(this.stopping.signal)
      .catch((error: unknown) =>
        this.log.error({ err: error, task: this.name }, `${this.name} failed`),
      )
      .finally(() => {
        this.running = undefined;
      });
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.stopping.abort();
    await this.running;
  }
}
