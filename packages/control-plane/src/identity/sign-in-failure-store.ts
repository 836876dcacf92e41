// The failed sign-ins every node counted, kept in the database: each failure is added where it
// happened, and a node reads the windows still open when it starts and whenever it may have
// missed other nodes' notifications.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../store/schema.js';

export interface StoredWindow {
  readonly key: string;
  readonly start: number;
  readonly failures: number;
}

export class SignInFailureStore {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * One more failure for each key, in the window open at `now`; a key whose window has ended
   * (or starts after `now`, the clock having been stepped back) begins a new one.
   */
  async add(
    throttle: string,
    keys: readonly string[],
    now: number,
    windowMs: number,
  ): Promise<void> {
    const ended = sql<boolean>`sign_in_failures.window_start <= ${now - windowMs} or sign_in_failures.window_start > ${now}`;
    await this.db
      .insertInto('sign_in_failures')
      .values(keys.map((key) => ({ throttle, key, window_start: now, failures: 1 })))
      .onConflict((oc) =>
        oc.columns(['throttle', 'key']).doUpdateSet({
          failures: sql<number>`case when ${ended} then 1 else sign_in_failures.failures + 1 end`,
          window_start: sql<number>`case when ${ended} then ${now} else sign_in_failures.window_start end`,
        }),
      )
      .execute();
  }

  /** The windows open at `now`, oldest first, at most `limit`. */
  async open(
    throttle: string,
    now: number,
    windowMs: number,
    limit: number,
  ): Promise<StoredWindow[]> {
    const rows = await this.db
      .selectFrom('sign_in_failures')
      .select(['key', 'window_start', 'failures'])
      .where('throttle', '=', throttle)
      .where('window_start', '>', now - windowMs)
      .where('window_start', '<=', now)
      .orderBy('window_start')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ key: r.key, start: Number(r.window_start), failures: r.failures }));
  }

  /** Forgets the windows that ended before `now`. */
  async prune(throttle: string, now: number, windowMs: number): Promise<void> {
    await this.db
      .deleteFrom('sign_in_failures')
      .where('throttle', '=', throttle)
      .where('window_start', '<=', now - windowMs)
      .execute();
  }
}
