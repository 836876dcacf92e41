// Prepared queries: compiled once, they read and write what the same Kysely query would, with
// each run's own values, inside transactions too; a build that loses an argument is refused.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Kysely } from 'kysely';
import { preparedQuery } from './prepared-query.js';
import type { Database } from './schema.js';
import { testBackends, type TestDatabase } from './testing/test-databases.js';

const insertSetting = preparedQuery(2, (db: Kysely<Database>, key: string, value: string) =>
  db.insertInto('settings').values({ key, value }),
);
const settingsLike = preparedQuery(2, (db: Kysely<Database>, prefix: string, not: string) =>
  db
    .selectFrom('settings')
    .select(['key', 'value'])
    .where('key', 'like', prefix)
    .where('value', '!=', not)
    .where('value', '!=', 'constant-excluded')
    .orderBy('key'),
);
const setValue = preparedQuery(2, (db: Kysely<Database>, key: string, value: string) =>
  db.updateTable('settings').set({ value }).where('key', '=', key),
);

for (const backend of testBackends()) {
  void describe(`preparedQuery: ${backend.name}`, () => {
    let store: TestDatabase;
    let db: Kysely<Database>;

    before(async () => {
      store = await backend.open();
      db = store.db;
    });
    after(async () => {
      await store.dispose();
    });

    void it('runs with each call’s values and keeps the constants of the query', async () => {
      for (const [key, value] of [
        ['prepared-a', '1'],
        ['prepared-b', '2'],
        ['prepared-c', 'constant-excluded'],
        ['other-d', '4'],
      ] as const) {
        await insertSetting.run(db, key, value);
      }
      assert.deepEqual(await settingsLike.rows(db, 'prepared-%', '2'), [
        { key: 'prepared-a', value: '1' },
      ]);
      assert.deepEqual(await settingsLike.rows(db, 'other-%', 'x'), [
        { key: 'other-d', value: '4' },
      ]);
      assert.equal(await settingsLike.first(db, 'none-%', 'x'), undefined);
      const changed = await setValue.run(db, 'prepared-a', '10');
      assert.equal(changed.numAffectedRows, 1n);
      assert.equal((await setValue.run(db, 'missing', '10')).numAffectedRows, 0n);
      const stored = await db
        .selectFrom('settings')
        .select('value')
        .where('key', '=', 'prepared-a')
        .executeTakeFirstOrThrow();
      assert.equal(stored.value, '10');
    });

    void it('runs inside a transaction and rolls back with it', async () => {
      await assert.rejects(
        db.transaction().execute(async (trx) => {
          await insertSetting.run(trx, 'prepared-rolled-back', 'v');
          assert.equal((await settingsLike.rows(trx, 'prepared-rolled-%', 'x')).length, 1);
          throw new Error('roll back');
        }),
        /roll back/,
      );
      assert.deepEqual(await settingsLike.rows(db, 'prepared-rolled-%', 'x'), []);
    });

    void it('refuses a build that does not pass an argument through as a value', async () => {
      const lost = preparedQuery(1, (d: Kysely<Database>, key: string) =>
        d.selectFrom('settings').selectAll().where('key', '=', key.toUpperCase()),
      );
      await assert.rejects(lost.rows(db, 'a'), /argument 0 is not a parameter/);
    });
  });
}
