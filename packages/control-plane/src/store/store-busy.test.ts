// A node whose PostgreSQL connections are all in use answers 503 saying it is busy — not that
// its database cannot be reached — with a Retry-After of a few seconds, and serves again once a
// connection is free (needs TETHER_TEST_POSTGRES_URL). A PostgreSQL that does not answer fills the
// pool with connections still opening: what waits behind them is told the database is away.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import pg from 'pg';
import {
  errorAnswer,
  STORE_BUSY_RETRY_AFTER_SECONDS,
  STORE_RETRY_AFTER_SECONDS,
} from '../api/build-app.js';
import { busyAwarePool } from './busy-aware-pool.js';
import { openDatabase } from './open-database.js';
import { testBackends } from './testing/test-databases.js';

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

void describe('a PostgreSQL that accepts connections and never answers', () => {
  void it('is answered 503 as unreachable, not as a busy node, for every request', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    }).listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const { port } = silent.address() as AddressInfo;
    const size = 2;
    const pool = new pg.Pool({
      connectionString: `postgres://tether@127.0.0.1:${port}/tether`,
      max: size,
      connectionTimeoutMillis: 300,
    });
    pool.on('error', () => undefined);
    try {
      const busyAware = busyAwarePool(pool, size, 300);
      // Two open connections that hang, and two requests queued behind them while they do.
      const errors = await Promise.all(
        [1, 2, 3, 4].map(() =>
          busyAware.connect().then(
            () => assert.fail('a connection to a silent server was handed out'),
            (error: unknown) => error,
          ),
        ),
      );
      assert.ok(sockets.size >= size, 'the pool opened as many connections as it may');
      for (const error of errors) {
        const answer = errorAnswer(error, quiet, 'correlation');
        assert.equal(answer.status, 503, String(error));
        assert.doesNotMatch(answer.body.error.message, /busy/, String(error));
        assert.equal(answer.headers['retry-after'], String(STORE_RETRY_AFTER_SECONDS));
      }
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
      await pool.end().catch(() => undefined);
    }
  });
});
