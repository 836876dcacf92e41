// How the nodes of one control plane tell each other what changed: a write that other nodes
// hold in memory (role assignments, revoked tokens, signing keys, failed sign-ins) or wait on
// (goal-state long polls, operation-status reads) is published on a topic, and every node's
// subscribers hear it. One node (SQLite) needs no more than this process; several over
// PostgreSQL use LISTEN/NOTIFY.
import type { Kysely } from 'kysely';

export type ClusterTopic =
  | 'goal-state'
  | 'gc-goal-state'
  | 'extension-operation'
  | 'authorization'
  | 'token-revocation'
  | 'signing-keys'
  | 'sign-in-failure'
  | 'gc-switch';

/** 'local': published by this node; 'remote': by another. */
export type Origin = 'local' | 'remote';

export type TopicListener = (payload: string, origin: Origin) => void;

export interface ClusterChannel {
  /**
   * False while notifications may have been missed (the listening connection is lost, or the
   * caches are being read again after it came back): nothing held in memory is to be trusted.
   */
  readonly subscribed: boolean;
  /** Whether this node runs the control plane's periodic jobs now. */
  readonly leader: boolean;
  /** Delivers to this node's subscribers at once, then to every other node's. */
  publish(topic: ClusterTopic, payload: string): void;
  subscribe(topic: ClusterTopic, listener: TopicListener): () => void;
  /**
   * `lost` runs (synchronously) when notifications may have been missed: drop what is cached.
   * `resync` runs after subscribing again, before `subscribed` turns true: read it back.
   */
  onReset(handlers: { lost?: () => void; resync?: () => Promise<void> }): void;
  /** `listener` runs each time this node becomes the leader. */
  onLeadership(listener: () => void): void;
  close(): Promise<void>;
}

/** Delivery to the subscribers of one node; the part every channel shares. */
export class Subscribers {
  private readonly byTopic = new Map<ClusterTopic, Set<TopicListener>>();

  add(topic: ClusterTopic, listener: TopicListener): () => void {
    let set = this.byTopic.get(topic);
    if (set === undefined) {
      set = new Set();
      this.byTopic.set(topic, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  deliver(topic: ClusterTopic, payload: string, origin: Origin): void {
    for (const listener of this.byTopic.get(topic) ?? []) {
      // A listener's failure is its own: the change it hears about has happened.
      try {
        listener(payload, origin);
      } catch {
        // ignored on purpose
      }
    }
  }
}

/** A single node: every subscriber is in this process, nothing can be missed, it always leads. */
export class InProcessChannel implements ClusterChannel {
  readonly subscribed = true;
  readonly leader = true;
  private readonly subscribers = new Subscribers();

  publish(topic: ClusterTopic, payload: string): void {
    this.subscribers.deliver(topic, payload, 'local');
  }

  subscribe(topic: ClusterTopic, listener: TopicListener): () => void {
    return this.subscribers.add(topic, listener);
  }

  onReset(): void {
    // Nothing is ever missed in one process.
  }

  onLeadership(): void {
    // Always the leader; nothing changes.
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

const BY_DATABASE = new WeakMap<object, ClusterChannel>();

/** Set before anything built over `db` asks for it (the server does so at start-up). */
export function registerClusterChannel(db: Kysely<never>, channel: ClusterChannel): void {
  BY_DATABASE.set(db, channel);
}

/** The channel of the control plane `db` belongs to: in-process unless one was registered. */
export function clusterChannelOf<DB>(db: Kysely<DB>): ClusterChannel {
  let channel = BY_DATABASE.get(db);
  if (channel === undefined) {
    channel = new InProcessChannel();
    BY_DATABASE.set(db, channel);
  }
  return channel;
}
