// A scheduler whose tasks wait until a test runs them; running one moves its clock forward.
import type { Clock } from '../../../clock.js';
import type { Scheduler } from '../../../scheduler.js';

export class ManualScheduler implements Scheduler, Clock {
  readonly pending: { dueAt: number; delayMs: number; task: () => void }[] = [];

  constructor(public time = Date.parse('2030-01-01T00:00:00Z')) {}

  now(): number {
    return this.time;
  }

  schedule(delayMs: number, task: () => void): () => void {
    const entry = { dueAt: this.time + delayMs, delayMs, task };
    this.pending.push(entry);
    return () => {
      const index = this.pending.indexOf(entry);
      if (index >= 0) this.pending.splice(index, 1);
    };
  }

  /** The delays of what waits, soonest first. */
  delays(): number[] {
    return [...this.pending].sort((a, b) => a.dueAt - b.dueAt).map((entry) => entry.delayMs);
  }

  /** Runs the soonest task (optionally only one scheduled with `delayMs`); returns its delay. */
  runNext(delayMs?: number): number {
    this.pending.sort((a, b) => a.dueAt - b.dueAt);
    const index =
      delayMs === undefined ? 0 : this.pending.findIndex((entry) => entry.delayMs === delayMs);
    const entry = index >= 0 ? this.pending.splice(index, 1)[0] : undefined;
    if (entry === undefined)
      throw new Error(`nothing scheduled${delayMs === undefined ? '' : ` with ${delayMs} ms`}`);
    this.time = Math.max(this.time, entry.dueAt);
    entry.task();
    return entry.delayMs;
  }
}

/** Deterministic [0, 1) numbers (mulberry32), so jitter is reproducible. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Lets pending callbacks run until `condition` holds (5 s unless told otherwise). */
export async function until(
  what: string,
  condition: () => boolean,
  timeoutMs = 5_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    // A few turns of the event loop settle promise chains; after that, stop busy-waiting.
    const waited = performance.now() - (deadline - timeoutMs);
    await new Promise((resolve) => (waited < 50 ? setImmediate(resolve) : setTimeout(resolve, 10)));
  }
}
