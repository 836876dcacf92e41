// A node whose PostgreSQL connections are all in use answers 503 saying it is busy — not that
// its database cannot be reached — with a Retry-After of a few seconds, and serves again once a
// connection is free. Needs TETHER_TEST_POSTGRES_URL.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorAnswer, STORE_BUSY_RETRY_AFTER_SECONDS } from '../api/build-app.js';
import { openDatabase } from './open-database.js';
import { testBackends } from './test-databases.js';

const postgres = testBackends().find((b) => b.name === 'postgres');
const quiet = { warn: () => undefined, error: () => undefined };

void describe('a busy PostgreSQL pool', { skip: postgres === undefined }, () => {
  void it('is answered 503 as busy with Retry-After, and recovers', async () => {
    const store = await postgres!.open();
    const { location } = store;
    assert.equal(location.kind, 'postgres');
    const db = await openDatabase({ ...location, poolSize: 2 });
    let release = (): void => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    try {
      // Two transactions hold both connections, as slow requests would.
      const holders = [1, 2].map(() =>
        db.transaction().execute(async (trx) => {
          await trx.selectFrom('machines').select('id').execute();
          await released;
        }),
      );
      const turnedAway = await db
        .selectFrom('machines')
        .select('id')
        .execute()
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      const answer = errorAnswer(turnedAway, quiet, 'correlation');
      assert.equal(answer.status, 503, String(turnedAway));
      assert.equal(answer.body.error.code, 'ServiceUnavailable');
      assert.match(answer.body.error.message, /busy: all 2 of its database connections/);
      const retryAfter = Number(answer.headers['retry-after']);
      assert.ok(
        retryAfter >= STORE_BUSY_RETRY_AFTER_SECONDS.min &&
          retryAfter <= STORE_BUSY_RETRY_AFTER_SECONDS.max,
        `Retry-After ${retryAfter}`,
      );

      release();
      await Promise.all(holders);
      assert.deepEqual(await db.selectFrom('machines').select('id').execute(), []);
    } finally {
      release();
      await db.destroy();
      await store.dispose();
    }
  });
});
