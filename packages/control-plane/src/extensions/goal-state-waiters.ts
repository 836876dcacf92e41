// Wake-up of long polls: a machine's waiting goal-state requests, woken when its goal state
// changes, on whichever node holds them (the change is published to every node). Cheap per
// waiter (one timer, one listener, and a machine's only waiter kept as itself rather than in a
// collection of its own) so a fleet can all wait. An agent channel listens the same way, for as
// long as it is open, and tells its agent of each change.
import type { Kysely } from 'kysely';
import {
  clusterChannelOf,
  type ClusterChannel,
  type ClusterTopic,
} from '../cluster/cluster-channel.js';
import type { Database } from '../store/schema.js';

export type WaitOutcome = 'changed' | 'timeout' | 'closed';

interface Waiter {
  settle(outcome: WaitOutcome): void;
}

/** Something that tells when the request behind a wait goes away (`request.raw`). */
export interface Closable {
  once(event: 'close', listener: () => void): unknown;
  off(event: 'close', listener: () => void): unknown;
}

/**
 * A machine's agent holds one poll at a time; anyone allowed to read its goal state could hold
 * thousands. Past this many, the oldest of that machine is answered (unchanged) to make room.
 */
export const MAX_WAITERS_PER_MACHINE = 8;

/** One per database: the routes and the expiry sweep of a server share it through `of(db)`. */
const BY_DATABASE = new WeakMap<object, GoalStateWaiters>();

/** Told of each change to one machine's goal state; must not throw. */
export type ChangeListener = () => void;

export class GoalStateWaiters {
  /** A machine's waiter, or its waiters oldest first when it has several. */
  private readonly waiting = new Map<string, Waiter | Waiter[]>();
  /** A machine's listener, or its listeners when it has several (a channel being replaced). */
  private readonly listening = new Map<string, ChangeListener | ChangeListener[]>();
  private readonly channel: ClusterChannel | undefined;
  private readonly topic: ClusterTopic;

  /** Without a channel, only this process's requests are woken. */
  constructor(cluster?: { channel: ClusterChannel; topic: ClusterTopic }) {
    this.channel = cluster?.channel;
    this.topic = cluster?.topic ?? 'goal-state';
    if (cluster === undefined) return;
    cluster.channel.subscribe(cluster.topic, (machineId) => this.wakeHere(machineId));
    // A change published while this node was not listening is unknown: every poll held here
    // is answered and every listener told, and each agent asks again for what is current.
    cluster.channel.onReset({
      resync: () => {
        this.wakeAll();
        for (const machineId of [...this.listening.keys()]) this.tell(machineId);
        return Promise.resolve();
      },
    });
  }

  static of(db: Kysely<Database>): GoalStateWaiters {
    let waiters = BY_DATABASE.get(db);
    if (waiters === undefined) {
      waiters = new GoalStateWaiters({ channel: clusterChannelOf(db), topic: 'goal-state' });
      BY_DATABASE.set(db, waiters);
    }
    return waiters;
  }

  /** Requests waiting now, over all machines. */
  get size(): number {
    let total = 0;
    for (const held of this.waiting.values()) total += Array.isArray(held) ? held.length : 1;
    return total;
  }

  /**
   * Waits until `wake(machineId)`, `timeoutMs` or the request closing. Returns a handle whose
   * `done` settles once; `cancel()` ends the wait at once (answer without waiting).
   */
  wait(
    machineId: string,
    timeoutMs: number,
    request: Closable,
  ): { done: Promise<WaitOutcome>; cancel(): void } {
    let settle!: (outcome: WaitOutcome) => void;
    const done = new Promise<WaitOutcome>((resolve) => {
      let timer: NodeJS.Timeout | undefined = undefined;
      const onClose = (): void => waiter.settle('closed');
      const waiter: Waiter = {
        settle: (outcome) => {
          if (timer === undefined) return;
          clearTimeout(timer);
          timer = undefined;
          request.off('close', onClose);
          this.remove(machineId, waiter);
          resolve(outcome);
        },
      };
      timer = setTimeout(() => waiter.settle('timeout'), timeoutMs);
      request.once('close', onClose);
      const held = this.waitersOf(machineId);
      if (held.length >= MAX_WAITERS_PER_MACHINE) held[0]?.settle('timeout');
      this.add(machineId, waiter);
      settle = (outcome) => waiter.settle(outcome);
    });
    return { done, cancel: () => settle('changed') };
  }

  /** Machines with a listener on this node. */
  get listened(): number {
    return this.listening.size;
  }

  /**
   * Calls `listener` on each change to `machineId`'s goal state, published by any node, until
   * the returned function is called.
   */
  listen(machineId: string, listener: ChangeListener): () => void {
    const held = this.listening.get(machineId);
    if (held === undefined) this.listening.set(machineId, listener);
    else if (Array.isArray(held)) held.push(listener);
    else this.listening.set(machineId, [held, listener]);
    return () => {
      const now = this.listening.get(machineId);
      if (now === listener) this.listening.delete(machineId);
      else if (Array.isArray(now)) {
        const rest = now.filter((each) => each !== listener);
        if (rest.length === 0) this.listening.delete(machineId);
        else this.listening.set(machineId, rest.length === 1 ? (rest[0] as ChangeListener) : rest);
      }
    };
  }

  /** On shutdown: answers every request waiting on this node now, so none holds it open. */
  wakeAll(): void {
    for (const machineId of [...this.waiting.keys()]) {
      for (const waiter of [...this.waitersOf(machineId)]) waiter.settle('changed');
    }
  }

  /** Answers every request waiting for `machineId`'s goal state, on every node. */
  wake(machineId: string): void {
    if (this.channel === undefined) this.wakeHere(machineId);
    else this.channel.publish(this.topic, machineId);
  }

  private wakeHere(machineId: string): void {
    for (const waiter of [...this.waitersOf(machineId)]) waiter.settle('changed');
    this.tell(machineId);
  }

  private tell(machineId: string): void {
    const held = this.listening.get(machineId);
    if (held === undefined) return;
    if (Array.isArray(held)) for (const listener of [...held]) listener();
    else held();
  }

  private waitersOf(machineId: string): readonly Waiter[] {
    const held = this.waiting.get(machineId);
    return held === undefined ? [] : Array.isArray(held) ? held : [held];
  }

  private add(machineId: string, waiter: Waiter): void {
    const held = this.waiting.get(machineId);
    if (held === undefined) this.waiting.set(machineId, waiter);
    else if (Array.isArray(held)) held.push(waiter);
    else this.waiting.set(machineId, [held, waiter]);
  }

  private remove(machineId: string, waiter: Waiter): void {
    const held = this.waiting.get(machineId);
    if (held === waiter) {
      this.waiting.delete(machineId);
    } else if (Array.isArray(held)) {
      const at = held.indexOf(waiter);
      if (at >= 0) held.splice(at, 1);
      if (held.length === 0) this.waiting.delete(machineId);
      else if (held.length === 1) this.waiting.set(machineId, held[0] as Waiter);
    }
  }
}
