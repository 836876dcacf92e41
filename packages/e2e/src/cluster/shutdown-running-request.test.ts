// A node stopped (SIGTERM) while a request is still running — here a resource group update
// held behind a row lock taken by another PostgreSQL session, whose client has already gone
// away — lets that request finish before it closes its database: the update and the read that
// follows it both complete, nothing is logged as failed, and the process exits once the lock
// is released. Needs PostgreSQL (TETHER_TEST_POSTGRES_URL, or Debian's postgresql and root).
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { AdminClient, waitFor } from '../harness/index.js';
import {
  postgresUnavailable,
  startTestPostgres,
  type TestPostgres,
} from '../harness/postgres-server.js';
import {
  runTether,
  startServer,
  type InitOutput,
  type ServerProcess,
} from '../harness/start-control-plane.js';

const unavailable = postgresUnavailable();

void describe('a node stopped while a request runs', { skip: unavailable ?? false }, () => {
  let root: string;
  let database: TestPostgres;
  let init: InitOutput;
  let server: ServerProcess;
  let admin: AdminClient;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'tether-stop-running-'));
    database = await startTestPostgres();
    const dataDir = join(root, 'data');
    init = JSON.parse(
      await runTether(['init', '--data-dir', dataDir, '--database-url', database.url, '--json']),
    ) as InitOutput;
    server = await startServer(
      dataDir,
      '127.0.0.1:0',
      ['--database-url', database.url, '--log-level', 'warn'],
      [],
    );
    admin = new AdminClient(server.url, init.caCert, init.tenantId, init.appId, init.password);
  });
  after(async () => {
    await server?.stop();
    await database?.dispose();
    await rm(root, { recursive: true, force: true });
  });

  void it('finishes it before closing the database, even when its client left', async () => {
    const group = `/subscriptions/${init.subscriptionId}/resourceGroups/held?api-version=2021-04-01`;
    const created = await admin.call('PUT', group, { body: { location: 'westeurope' } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const token = await admin.tokenFor(init.appId, init.password);

    // One session holds the row lock; another watches (inside a transaction, PostgreSQL's view
    // of the other sessions is a snapshot).
    const locker = new pg.Client({ connectionString: database.url });
    const observer = new pg.Client({ connectionString: database.url });
    await locker.connect();
    await observer.connect();
    try {
      await locker.query('BEGIN');
      await locker.query("SELECT id FROM resource_groups WHERE name = 'held' FOR UPDATE");
      const waitingOnLock = async () => {
        const { rows } = await observer.query<{ waiting: string }>(
          "SELECT count(*) AS waiting FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE 'update%resource_groups%'",
        );
        return Number(rows[0]?.waiting) > 0;
      };

      // The update reaches PostgreSQL and waits for the lock; then its client goes away.
      const ca = await readFile(init.caCert, 'utf8');
      const update = request(`${server.url}${group}`, {
        method: 'PUT',
        ca,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      });
      const clientGone = new Promise<void>((resolve) => update.once('close', resolve));
      update.on('error', () => undefined);
      update.end(JSON.stringify({ location: 'westeurope', tags: { stage: 'after-stop' } }));
      await waitFor('the update waiting on the row lock', async () =>
        (await waitingOnLock()) ? true : undefined,
      );
      update.destroy();
      await clientGone;

      let exited = false;
      const stopped = server.stop().then(() => (exited = true));
      // Stopped, with no connection left, the node still waits for the running request.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      assert.equal(exited, false, 'the node exited while a request was still running');
      assert.equal(await waitingOnLock(), true);
      await locker.query('COMMIT');
      await stopped;
      const { rows } = await locker.query<{ tags: string }>(
        "SELECT tags FROM resource_groups WHERE name = 'held'",
      );
      assert.deepEqual(JSON.parse(rows[0]?.tags ?? '{}'), { stage: 'after-stop' });
    } finally {
      await locker.end();
      await observer.end();
    }
    const failures = server
      .logs()
      .split('\n')
      .filter((line) => /"level":(50|60)/.test(line) || line.includes('destroyed'));
    assert.deepEqual(failures, [], server.logs());
  });
});
