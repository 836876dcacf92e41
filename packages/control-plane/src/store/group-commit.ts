// Group commit for small independent writes (activity-log events, delivery stamps): those that
// arrive while the previous batch commits are written together in one transaction, so a burst of
// requests pays for one durable commit instead of one each. Each write still resolves only once
// its transaction is committed.
import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.js';

export type Write = (trx: Transaction<Database>) => Promise<void>;

interface Queued {
  readonly write: Write;
  resolve(): void;
  reject(error: unknown): void;
}

/** A batch never grows past this; the rest waits for the next commit. */
const MAX_BATCH = 256;

/** One per database, so every part of a server shares its batches. */
const BY_DATABASE = new WeakMap<object, GroupCommit>();

export class GroupCommit {
  private queue: Queued[] = [];
  private draining = false;

  constructor(private readonly db: Kysely<Database>) {}

  static of(db: Kysely<Database>): GroupCommit {
    let group = BY_DATABASE.get(db);
    if (group === undefined) {
      group = new GroupCommit(db);
      BY_DATABASE.set(db, group);
    }
    return group;
  }

  /** Resolves once `write` is committed; rejects with its own error if it alone fails. */
  run(write: Write): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ write, resolve, reject });
      if (!this.draining) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        // Writes submitted by the requests of this turn of the event loop join the batch.
        await new Promise<void>((resolve) => setImmediate(resolve));
        const batch = this.queue.splice(0, MAX_BATCH);
        try {
          await this.db.transaction().execute(async (trx) => {
            for (const item of batch) await item.write(trx);
          });
          for (const item of batch) item.resolve();
        } catch {
          // One failing write must not take the others with it: each again on its own.
          for (const item of batch) {
            try {
              await this.db.transaction().execute(item.write);
              item.resolve();
            } catch (error) {
              item.reject(error);
            }
          }
        }
      }
    } finally {
      this.draining = false;
    }
  }
}
