// Tether's start on PostgreSQL looks at its own schema only (needs TETHER_TEST_POSTGRES_URL):
// another application dropping its schemas in the same database while Tether migrates does not
// fail the start, and a Kysely migration table of another schema is not taken for Tether's.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import pg from 'pg';
import { sql, type Kysely } from 'kysely';
import { migrations } from './migrations.js';
import { openDatabase } from './open-database.js';
import type { Database } from './schema.js';

const migrationCount = Object.keys(migrations).length;
const appliedMigrations = async (db: Kysely<Database>): Promise<number> =>
  (await sql<{ n: number }>`select count(*)::int as n from kysely_migration`.execute(db)).rows[0]!
    .n;

const url = process.env['TETHER_TEST_POSTGRES_URL'];
const name = (prefix: string): string => `${prefix}_${randomBytes(6).toString('hex')}`;

async function withClient<T>(
  connectionString: string,
  work: (c: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

void describe('opening a PostgreSQL store', { skip: url === undefined || url === '' }, () => {
  void it('succeeds while other schemas of the database are being dropped', async () => {
    // Each round opens a store in a fresh schema while eight schemas of someone else's, each
    // with tables, are dropped at the same moment.
    await withClient(url!, async (admin) => {
      for (let round = 0; round < 8; round += 1) {
        const others = Array.from({ length: 8 }, () => name('other'));
        for (const other of others) {
          await admin.query(
            `CREATE SCHEMA ${other}; CREATE TABLE ${other}.t (id serial primary key, v text);` +
              `CREATE TABLE ${other}.u (id int)`,
          );
        }
        const schema = name('tether_own');
        await admin.query(`CREATE SCHEMA ${schema}`);
        try {
          const [opened] = await Promise.all([
            openDatabase({ kind: 'postgres', url: url!, schema }),
            ...others.map((other) =>
              withClient(url!, (c) => c.query(`DROP SCHEMA ${other} CASCADE`)),
            ),
          ]);
          assert.equal(await appliedMigrations(opened), migrationCount);
          await opened.destroy();
        } finally {
          await admin.query(`DROP SCHEMA ${schema} CASCADE`);
        }
      }
    });
  });

  void it('migrates its own schema though another schema holds Kysely migration tables', async () => {
    // A database of its own, whose default schema (public) Tether uses, as it does in production.
    const database = name('tether_db');
    await withClient(url!, (c) => c.query(`CREATE DATABASE ${database}`));
    const databaseUrl = new URL(url!);
    databaseUrl.pathname = `/${database}`;
    try {
      await withClient(databaseUrl.href, (c) =>
        c.query(
          `CREATE SCHEMA someone_else;
           CREATE TABLE someone_else.kysely_migration (name varchar(255) primary key, timestamp varchar(255) not null);
           CREATE TABLE someone_else.kysely_migration_lock (id varchar(255) primary key, is_locked integer not null default 0);`,
        ),
      );
      const db = await openDatabase({ kind: 'postgres', url: databaseUrl.href });
      try {
        assert.equal(await appliedMigrations(db), migrationCount);
      } finally {
        await db.destroy();
      }
      const tables = await withClient(databaseUrl.href, async (c) =>
        (
          await c.query<{ table_name: string }>(
            `select table_name from information_schema.tables where table_schema = 'public'`,
          )
        ).rows.map((r) => r.table_name),
      );
      assert.ok(tables.includes('kysely_migration'), `public has ${tables.join(', ')}`);
      assert.ok(tables.includes('machines'));
    } finally {
      await withClient(url!, (c) => c.query(`DROP DATABASE ${database} WITH (FORCE)`));
    }
  });
});
