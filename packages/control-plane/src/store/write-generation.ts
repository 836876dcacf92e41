// Read caches that can never serve what a write has replaced. A store's write generation is a
// number that changes the moment this process executes any statement that writes, committed or
// not; a cache keeps what it read at one generation and forgets all of it when the generation
// moves. Only a store no other process can write to has a generation: SQLite, which the server
// opens with EXCLUSIVE locking. PostgreSQL is shared by every server of a scale-out, so it has
// none, and caches over it always ask the database.
import type { Kysely } from 'kysely';

export interface WriteGeneration {
  current(): number;
}

/** Counts writes; the store bumps it before each writing statement runs. */
export class WriteCounter implements WriteGeneration {
  private writes = 0;

  bump(): void {
    this.writes++;
  }

  current(): number {
    return this.writes;
  }
}

const generations = new WeakMap<Kysely<never>, WriteGeneration>();

export function registerWriteGeneration<DB>(db: Kysely<DB>, generation: WriteGeneration): void {
  generations.set(db as unknown as Kysely<never>, generation);
}

/** The store's write generation, or undefined when other processes may write to it too. */
export function writeGenerationOf<DB>(db: Kysely<DB>): WriteGeneration | undefined {
  return generations.get(db as unknown as Kysely<never>);
}

/** Most entries a cache keeps; the oldest make room. */
const DEFAULT_LIMIT = 4096;

/**
 * Values read from the store by key, valid until the next write. A value read while a write
 * ran is returned but not kept: it may predate that write. `undefined` (nothing found) is
 * never kept, so a create is seen at once even by a reader that raced it.
 */
export class WriteGuardedCache<V> {
  private readonly entries = new Map<string, V>();
  private readAt = Number.NaN;

  constructor(
    private readonly generation: WriteGeneration | undefined,
    private readonly limit: number = DEFAULT_LIMIT,
  ) {}

  /** The value kept for `key` if no write ran since it was read, without waiting. */
  peek(key: string): V | undefined {
    if (this.generation === undefined || this.generation.current() !== this.readAt)
      return undefined;
    return this.entries.get(key);
  }

  async read(key: string, load: () => Promise<V | undefined>): Promise<V | undefined> {
    if (this.generation === undefined) return load();
    const before = this.generation.current();
    if (before !== this.readAt) {
      this.entries.clear();
      this.readAt = before;
    }
    const hit = this.entries.get(key);
    if (hit !== undefined) return hit;
    const value = await load();
    if (value !== undefined && this.generation.current() === before && this.readAt === before) {
      if (this.entries.size >= this.limit) {
        const oldest = this.entries.keys().next();
        if (oldest.done !== true) this.entries.delete(oldest.value);
      }
      this.entries.set(key, value);
    }
    return value;
  }
}
