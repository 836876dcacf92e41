// Opens the control plane's database: embedded SQLite by default, PostgreSQL for scale-out.
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import type { Database } from './schema.js';
import { migrateToLatest } from './migrations.js';

export type DatabaseLocation = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };

export async function openDatabase(location: DatabaseLocation): Promise<Kysely<Database>> {
  const db = new Kysely<Database>({ dialect: await dialectFor(location) });
  await migrateToLatest(db as Kysely<unknown>);
  return db;
}

async function dialectFor(location: DatabaseLocation): Promise<SqliteDialect | PostgresDialect> {
  switch (location.kind) {
    case 'sqlite': {
      const { default: SQLite } = await import('better-sqlite3');
      const sqlite = new SQLite(location.file);
      // WAL with synchronous=FULL: a commit is on disk before it is acknowledged.
      sqlite.pragma('journal_mode = WAL');
      sqlite.pragma('synchronous = FULL');
      sqlite.pragma('foreign_keys = ON');
      sqlite.pragma('busy_timeout = 5000');
      return new SqliteDialect({ database: sqlite });
    }
    case 'postgres': {
      const { default: pg } = await import('pg');
      return new PostgresDialect({ pool: new pg.Pool({ connectionString: location.url }) });
    }
  }
}
