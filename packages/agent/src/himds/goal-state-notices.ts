// What HIMDS knows of the control plane's goal-state notices (docs/agent-protocol.md): per goal
// state, whether an open agent channel announces its changes, and a sequence that moves on each
// change announced — and when a channel's hello announces it after a moment with none open that
// did, since a change made in that gap was not announced. The agent's other services ask HIMDS for
// these counters and fetch the goal state from the control plane themselves when one moves; the
// counters carry nothing they could be misled by beyond an extra fetch.
import { randomInt } from 'node:crypto';
import { GOAL_STATE_NOTICES, type GoalStateNotice } from '@tether/protocol';

export interface NoticeState {
  /** An open channel's hello named this goal state: its changes come as notices. */
  readonly announced: boolean;
  /** Moves on every announced change and on every gap; starts anew with each HIMDS process. */
  readonly sequence: number;
}

/** More asks held at once for one goal state than the board keeps. */
export class TooManyWaitersError extends Error {}

/** HIMDS's endpoint for the counters: outside Azure IMDS's /metadata, so it clashes with none. */
export const GOAL_STATE_NOTICES_PATH = '/agent/goalStateNotices';
/** The longest an ask is held; a longer `wait` is taken as this. */
export const MAX_NOTICE_WAIT_SECONDS = 300;

/** Held asks per goal state: its service holds one; any local process may call, so few more. */
export const MAX_WAITERS_PER_SERVICE = 4;

interface Waiter {
  /** Answers the ask with the state now. */
  readonly wake: () => void;
}

export class GoalStateNotices {
  private readonly sequences: Map<GoalStateNotice, number>;
  /** Each open channel whose hello was read, with the goal states it announces. */
  private readonly channels = new Map<object, ReadonlySet<GoalStateNotice>>();
  private readonly waiters = new Map<GoalStateNotice, Set<Waiter>>(
    GOAL_STATE_NOTICES.map((service) => [service, new Set()]),
  );

  /**
   * Each HIMDS process counts from a random start, so a service that saw another process's
   * sequence cannot find it again by chance after a restart and miss the changes made meanwhile.
   */
  constructor(firstSequence = randomInt(2 ** 40)) {
    this.sequences = new Map(GOAL_STATE_NOTICES.map((service) => [service, firstSequence]));
  }

  state(service: GoalStateNotice): NoticeState {
    let announced = false;
    for (const notices of this.channels.values()) if (notices.has(service)) announced = true;
    return { announced, sequence: this.sequences.get(service) ?? 0 };
  }

  /** Whether any open channel announces anything: then it is worth keeping one open. */
  get inUse(): boolean {
    for (const notices of this.channels.values()) if (notices.size > 0) return true;
    return false;
  }

  /** A channel's hello; `channel` is whatever identifies it until closed() is told. */
  hello(channel: object, notices: readonly unknown[]): void {
    const announced = new Set(GOAL_STATE_NOTICES.filter((service) => notices.includes(service)));
    const before = new Map(GOAL_STATE_NOTICES.map((service) => [service, this.state(service)]));
    this.channels.set(channel, announced);
    for (const service of GOAL_STATE_NOTICES) {
      const was = before.get(service) as NoticeState;
      // Announced again after none announced it: a change in the gap was missed, so it counts as one.
      if (announced.has(service) && !was.announced) this.bump(service);
      else if (this.state(service).announced !== was.announced) this.wake(service);
    }
  }

  /** A `goalStateChanged` frame on a channel. */
  changed(channel: object, service: GoalStateNotice): void {
    if (!this.channels.has(channel)) return;
    this.bump(service);
  }

  /** The channel closed: what only it announced is announced no more. */
  closed(channel: object): void {
    const notices = this.channels.get(channel);
    if (notices === undefined) return;
    this.channels.delete(channel);
    for (const service of notices) if (!this.state(service).announced) this.wake(service);
  }

  /**
   * The state now if it differs from what the asker saw (`after` its sequence, undefined when it
   * has seen none) or is not announced; otherwise once it changes, or after `waitMs`.
   */
  wait(
    service: GoalStateNotice,
    after: number | undefined,
    waitMs: number,
    signal?: AbortSignal,
  ): Promise<NoticeState> {
    const now = this.state(service);
    if (!now.announced || after === undefined || now.sequence !== after || waitMs <= 0)
      return Promise.resolve(now);
    const waiters = this.waiters.get(service) as Set<Waiter>;
    if (waiters.size >= MAX_WAITERS_PER_SERVICE) {
      return Promise.reject(
        new TooManyWaitersError(
          `${MAX_WAITERS_PER_SERVICE} requests already wait for ${service} notices; ask again later.`,
        ),
      );
    }
    return new Promise((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', finish);
        if (waiters.delete(waiter)) resolve(this.state(service));
      };
      const waiter: Waiter = { wake: finish };
      const timer = setTimeout(finish, waitMs);
      waiters.add(waiter);
      signal?.addEventListener('abort', finish, { once: true });
    });
  }

  /** Held asks now, per goal state (tests, status). */
  held(service: GoalStateNotice): number {
    return this.waiters.get(service)?.size ?? 0;
  }

  /** Answers every held ask with the state now (HIMDS stopping). */
  release(): void {
    for (const service of GOAL_STATE_NOTICES) this.wake(service);
  }

  private bump(service: GoalStateNotice): void {
    this.sequences.set(service, (this.sequences.get(service) ?? 0) + 1);
    this.wake(service);
  }

  private wake(service: GoalStateNotice): void {
    for (const waiter of [...(this.waiters.get(service) ?? [])]) waiter.wake();
  }
}
