// A write-guarded cache never serves what a write replaced: every kind of writing statement
// run through the store moves the generation, a value read while a write ran is not kept, and
// a store other processes share (PostgreSQL) has no generation, so its readers always ask it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';
import { testBackends, type TestDatabase } from './testing/test-databases.js';
import { WriteCounter, WriteGuardedCache, writeGenerationOf } from './write-generation.js';

for (const backend of testBackends()) {
  void describe(`write generation: ${backend.name}`, () => {
    let store: TestDatabase;
    let db: Kysely<Database>;

    before(async () => {
      store = await backend.open();
      db = store.db;
      await db.insertInto('settings').values({ key: 'wg', value: 'first' }).execute();
    });
    after(async () => {
      await store.dispose();
    });

    const value = async (): Promise<string | undefined> =>
      (await db.selectFrom('settings').select('value').where('key', '=', 'wg').executeTakeFirst())
        ?.value;

    if (backend.name !== 'sqlite') {
      void it('has none: another server of a scale-out may write', async () => {
        assert.equal(writeGenerationOf(db), undefined);
        const cache = new WriteGuardedCache<string>(writeGenerationOf(db));
        let loads = 0;
        const load = async () => {
          loads++;
          return value();
        };
        await cache.read('k', load);
        await cache.read('k', load);
        assert.equal(loads, 2, 'every read asks the database');
      });
      return;
    }

    void it('stays put while only reads run, and moves on each kind of write', async () => {
      const generation = writeGenerationOf(db);
      assert.ok(generation !== undefined);
      const at = generation.current();
      await value();
      await sql`select count(*) from settings`.execute(db);
      assert.equal(generation.current(), at, 'reads do not move it');

      const writes: Array<[string, () => Promise<unknown>]> = [
        [
          'update',
          () => db.updateTable('settings').set({ value: 'x' }).where('key', '=', 'wg').execute(),
        ],
        ['insert', () => db.insertInto('settings').values({ key: 'wg2', value: 'y' }).execute()],
        [
          'insert … returning',
          () =>
            db.insertInto('settings').values({ key: 'wg3', value: 'z' }).returning('key').execute(),
        ],
        ['delete', () => db.deleteFrom('settings').where('key', 'in', ['wg2', 'wg3']).execute()],
        ['raw sql', () => sql`update settings set value = 'first' where key = 'wg'`.execute(db)],
        [
          'a write in a transaction later rolled back',
          () =>
            db
              .transaction()
              .execute(async (trx) => {
                await trx.updateTable('settings').set({ value: 'rolled back' }).execute();
                throw new Error('roll back');
              })
              .catch(() => undefined),
        ],
      ];
      for (const [name, write] of writes) {
        const before = generation.current();
        await write();
        assert.notEqual(generation.current(), before, name);
      }
      assert.equal(await value(), 'first');
    });

    void it('serves a value until the next write, then reads it again', async () => {
      const cache = new WriteGuardedCache<string>(writeGenerationOf(db));
      let loads = 0;
      const load = async () => {
        loads++;
        return value();
      };
      assert.equal(await cache.read('k', load), 'first');
      assert.equal(await cache.read('k', load), 'first');
      assert.equal(loads, 1, 'the second read is served from memory');
      await db.updateTable('settings').set({ value: 'second' }).where('key', '=', 'wg').execute();
      assert.equal(await cache.read('k', load), 'second', 'the write is seen at once');
      assert.equal(loads, 2);
    });
  });
}

void describe('WriteGuardedCache', () => {
  void it('returns but does not keep a value read while a write ran', async () => {
    const writes = new WriteCounter();
    const cache = new WriteGuardedCache<string>(writes);
    const raced = await cache.read('k', () => {
      writes.bump();
      return Promise.resolve('maybe stale');
    });
    assert.equal(raced, 'maybe stale');
    assert.equal(await cache.read('k', () => Promise.resolve('fresh')), 'fresh');
    assert.equal(await cache.read('k', () => Promise.resolve('not asked')), 'fresh');
  });

  void it('does not keep "not found", and evicts the oldest at its bound', async () => {
    const cache = new WriteGuardedCache<string>(new WriteCounter(), 2);
    assert.equal(await cache.read('missing', () => Promise.resolve(undefined)), undefined);
    assert.equal(await cache.read('missing', () => Promise.resolve('created')), 'created');
    await cache.read('b', () => Promise.resolve('b'));
    await cache.read('c', () => Promise.resolve('c'));
    assert.equal(await cache.read('missing', () => Promise.resolve('read again')), 'read again');
    assert.equal(await cache.read('c', () => Promise.resolve('not asked')), 'c');
  });
});
