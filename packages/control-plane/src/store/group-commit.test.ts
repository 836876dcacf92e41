// Group commit: concurrent writes share one transaction, each resolves only after the commit,
// and a failing write fails alone.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import { GroupCommit } from './group-commit.js';
import { testBackends, type TestDatabase } from './testing/test-databases.js';

for (const backend of testBackends()) {
  void describe(`GroupCommit: ${backend.name}`, () => {
    let store: TestDatabase;
    let db: Kysely<Database>;

    before(async () => {
      store = await backend.open();
      db = store.db;
    });
    after(async () => {
      await store.dispose();
    });

    const setting =
      (key: string) => async (trx: Parameters<Parameters<GroupCommit['run']>[0]>[0]) => {
        await trx.insertInto('settings').values({ key, value: 'v' }).execute();
      };
    const stored = async (prefix: string): Promise<string[]> =>
      (await db.selectFrom('settings').select('key').where('key', 'like', `${prefix}%`).execute())
        .map((r) => r.key)
        .sort();

    void it('writes what is submitted together in one transaction, resolving after it commits', async () => {
      const group = new GroupCommit(db);
      let transactions = 0;
      // GroupCommit asks its database for nothing but transactions.
      const counting = {
        transaction: () => {
          transactions += 1;
          return db.transaction();
        },
      } as unknown as Kysely<Database>;
      const counted = new GroupCommit(counting);
      await Promise.all(Array.from({ length: 50 }, (_, i) => counted.run(setting(`batch-${i}`))));
      assert.equal(transactions, 1, 'fifty concurrent writes, one transaction');
      assert.equal((await stored('batch-')).length, 50);
      await group.run(setting('alone'));
      assert.deepEqual(await stored('alone'), ['alone']);
    });

    void it('fails only the write that fails; the others in its batch are committed', async () => {
      const group = new GroupCommit(db);
      await group.run(setting('taken'));
      const results = await Promise.allSettled([
        group.run(setting('ok-1')),
        group.run(setting('taken')), // primary key clash
        group.run(setting('ok-2')),
      ]);
      assert.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'rejected', 'fulfilled'],
      );
      assert.deepEqual(await stored('ok-'), ['ok-1', 'ok-2']);
    });

    void it('is one per database', () => {
      assert.equal(GroupCommit.of(db), GroupCommit.of(db));
    });
  });
}
