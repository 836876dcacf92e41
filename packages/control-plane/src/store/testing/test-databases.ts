// Databases for tests: a fresh SQLite file always, and a fresh PostgreSQL schema when
// TETHER_TEST_POSTGRES_URL names a server, so every store test runs against both backends.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { openDatabase, type DatabaseLocation } from '../open-database.js';
import type { Database } from '../schema.js';

export interface TestDatabase {
  db: Kysely<Database>;
  location: DatabaseLocation;
  /** Closes the connection and opens the same database again, as a restart would. */
  reopen(): Promise<Kysely<Database>>;
  /** Closes the connection and deletes everything the test created. */
  dispose(): Promise<void>;
}

export interface TestBackend {
  name: 'sqlite' | 'postgres';
  open(): Promise<TestDatabase>;
}

export function testBackends(env: NodeJS.ProcessEnv = process.env): TestBackend[] {
  const backends: TestBackend[] = [{ name: 'sqlite', open: openSqliteTestDatabase }];
  const url = env['TETHER_TEST_POSTGRES_URL'];
  if (url !== undefined && url !== '') {
    backends.push({ name: 'postgres', open: () => openPostgresTestDatabase(url) });
  }
  return backends;
}

/** A migrated SQLite database in a new temporary directory. */
export async function openSqliteTestDatabase(): Promise<TestDatabase> {
  const dir = await mkdtemp(join(tmpdir(), 'tether-store-'));
  const location: DatabaseLocation = { kind: 'sqlite', file: join(dir, 'tether.db') };
  return track(location, () => rm(dir, { recursive: true, force: true }));
}

/** Test runs share one PostgreSQL server, each in a schema of its own. */
async function openPostgresTestDatabase(url: string): Promise<TestDatabase> {
  const { default: pg } = await import('pg');
  const schema = `tether_test_${randomBytes(8).toString('hex')}`;
  const run = async (statement: string): Promise<void> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await run(`CREATE SCHEMA ${schema}`);
  return track({ kind: 'postgres', url, schema }, () => run(`DROP SCHEMA ${schema} CASCADE`));
}

async function track(
  location: DatabaseLocation,
  remove: () => Promise<void>,
): Promise<TestDatabase> {
  const handle: TestDatabase = {
    db: await openDatabase(location),
    location,
    async reopen() {
      await handle.db.destroy();
      handle.db = await openDatabase(location);
      return handle.db;
    },
    async dispose() {
      await handle.db.destroy();
      await remove();
    },
  };
  return handle;
}
