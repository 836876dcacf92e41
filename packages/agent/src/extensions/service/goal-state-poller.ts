// Push by long polling (B11): ask for the goal state after the last generation seen; the control
// plane answers when it changes. Re-polls at once after an answer, backs off with full jitter
// (1 s … 5 min) after errors — or waits what a busy control plane's Retry-After asks, spread
// and capped the same — and never spins on a server that answers too fast.
import type { Clock } from '../../clock.js';
import {
  DEFAULT_BACKOFF,
  fullJitterDelay,
  retryAfterDelay,
  retryAfterOf,
  type BackoffPolicy,
} from '../../himds/backoff.js';
import type { Scheduler } from '../../scheduler.js';

/** An unchanged answer sooner than this after asking waits out the rest before the next poll. */
const MIN_POLL_INTERVAL_MS = 1_000;

/** Any goal state that carries a generation: the extension one, the guest configuration one. */
export interface GoalStateSource<S extends { readonly generation: number }> {
  /** Answers at once without `after`; otherwise when the generation changes or a wait passes. */
  goalState(after: number | undefined, signal?: AbortSignal): Promise<S>;
}

export interface PollerOptions<S extends { readonly generation: number }> {
  readonly api: GoalStateSource<S>;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly random: () => number;
  readonly backoff?: BackoffPolicy;
  readonly log: (line: string) => void;
  /** Every answer, in order; must not throw. */
  readonly onGoalState: (state: S) => void;
  /** After every attempt: undefined when it succeeded, else the error message. */
  readonly onAttempt?: (error: string | undefined) => void;
}

export class GoalStatePoller<S extends { readonly generation: number }> {
  private generation: number | undefined;
  private failures = 0;
  private lastError: string | undefined;
  private stopped = true;
  private cancelTimer: (() => void) | undefined;
  private inFlight: AbortController | undefined;

  constructor(private readonly options: PollerOptions<S>) {}

  /** The error of the last attempt, while polling fails. */
  get error(): string | undefined {
    return this.lastError;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops polling and aborts a poll in flight. */
  stop(): void {
    this.stopped = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.inFlight?.abort();
    this.inFlight = undefined;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.cancelTimer = this.options.scheduler.schedule(delayMs, () => void this.poll());
  }

  private async poll(): Promise<void> {
    this.cancelTimer = undefined;
    const { api, clock, log } = this.options;
    const controller = new AbortController();
    this.inFlight = controller;
    const askedAt = clock.now();
    let delayMs: number;
    try {
      const state = await api.goalState(this.generation, controller.signal);
      if (this.stopped) return;
      if (this.failures > 0) {
        log(`goal state reachable again after ${this.failures} failed attempt(s)`);
      }
      this.failures = 0;
      this.lastError = undefined;
      const changed = state.generation !== this.generation;
      this.generation = state.generation;
      this.options.onGoalState(state);
      const elapsed = clock.now() - askedAt;
      delayMs = changed || elapsed >= MIN_POLL_INTERVAL_MS ? 0 : MIN_POLL_INTERVAL_MS - elapsed;
    } catch (error) {
      if (this.stopped) return;
      this.failures += 1;
      const message = (error as Error).message;
      const policy = this.options.backoff ?? DEFAULT_BACKOFF;
      // At least the base, then spread over the growing window (never more than the cap):
      // the agents of a node that went away come back at different moments, not half of them
      // together at exactly the base, as a floor on plain full jitter would have them.
      // A control plane that says when to come back (503 busy, with Retry-After) is believed,
      // within the same cap: it knows its load better than this agent's count of failures.
      delayMs =
        retryAfterDelay(retryAfterOf(error), clock.now(), this.options.random, policy.capMs) ??
        policy.baseMs +
          fullJitterDelay(
            this.failures,
            { baseMs: policy.baseMs, capMs: policy.capMs - policy.baseMs },
            this.options.random,
          );
      // Once per change of state, not once per attempt: an unreachable server is one line.
      if (message !== this.lastError) {
        log(`cannot fetch the goal state: ${message} (retrying with backoff; polling continues)`);
      }
      this.lastError = message;
    } finally {
      if (this.inFlight === controller) this.inFlight = undefined;
    }
    this.options.onAttempt?.(this.lastError);
    this.schedule(delayMs);
  }
}
