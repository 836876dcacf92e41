// The better-sqlite3 connection under a SQLite-backed Kysely, for the few things Kysely does
// not offer: online backups and scrubbing freed pages. Undefined on PostgreSQL.
import type { Database as BetterSqlite3 } from 'better-sqlite3';
import type { Kysely } from 'kysely';

const handles = new WeakMap<Kysely<never>, BetterSqlite3>();

export function registerSqliteHandle<DB>(db: Kysely<DB>, sqlite: BetterSqlite3): void {
  handles.set(db as unknown as Kysely<never>, sqlite);
}

export function sqliteHandleOf<DB>(db: Kysely<DB>): BetterSqlite3 | undefined {
  return handles.get(db as unknown as Kysely<never>);
}
