// In-process notice of policy changes, so that the guest configuration side can create or
// remove machines' guest configuration assignments when assignments, exemptions or the
// definitions they use change. Delivered after the change is committed.
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';

export interface PolicyChange {
  kind: 'definition' | 'setDefinition' | 'assignment' | 'exemption';
  change: 'created' | 'updated' | 'deleted';
  /** Lower-cased ARM id of what changed. */
  id: string;
  /** Its normalized scope. */
  scope: string;
}

export type PolicyChangeListener = (change: PolicyChange) => void;

const BY_DATABASE = new WeakMap<object, PolicyChanges>();

/** One per database, shared through `of(db)` by the routes and whoever listens. */
export class PolicyChanges {
  private readonly listeners = new Set<PolicyChangeListener>();

  static of(db: Kysely<Database>): PolicyChanges {
    let changes = BY_DATABASE.get(db);
    if (changes === undefined) {
      changes = new PolicyChanges();
      BY_DATABASE.set(db, changes);
    }
    return changes;
  }

  /** Returns the function that stops the listening. */
  subscribe(listener: PolicyChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(change: PolicyChange): void {
    for (const listener of this.listeners) {
      // A listener's failure is its own: the write it reports has happened.
      try {
        listener(change);
      } catch {
        // ignored on purpose
      }
    }
  }
}
