// The liveness log on every backend: a heartbeat with an unchanged report is appended to the log
// and not to its agent row, every read sees it at once (the API's GET and the status-filtered
// list), a changed report or a silence still writes the row, and the fold moves times into the
// rows without losing a heartbeat that arrives while it runs or moving a row back in time, and
// stops between chunks when the server shuts down.
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { Kysely } from 'kysely';
import { DEFAULT_AGENT_CONFIGURATION } from '@tether/protocol';
import { ManualClock } from '../clock.js';
import { TestControlPlane } from '../server/testing/test-control-plane.js';
import type { Database } from '../store/schema.js';
import { testBackends, type TestDatabase } from '../store/testing/test-databases.js';
import { HeartbeatBatcher } from './heartbeat-batcher.js';
import { reportHashOf } from './heartbeat-service.js';
import { foldLivenessLog, lastHeartbeatSql } from './liveness-log.js';
import { DEFAULT_MACHINE_TIMINGS } from './machine-timings.js';
import { newMachineKey, requestMachineToken } from './testing/machine-agents.js';

const V = 'api-version=2024-07-10';
const MINUTE = 60_000;
const REPORT = {
  agentVersion: '1.2',
  osName: 'linux',
  agentConfiguration: DEFAULT_AGENT_CONFIGURATION,
};

const iso = (ms: number): string => new Date(ms).toISOString();

async function logOf(db: Kysely<Database>, machineId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('liveness_log')
    .select('at')
    .where('machine_id', '=', machineId)
    .orderBy('at')
    .execute();
  return rows.map((r) => r.at);
}

async function agentRow(db: Kysely<Database>, machineId: string) {
  return db
    .selectFrom('machine_agents')
    .select(['last_heartbeat_at', 'connected_since', 'report'])
    .select(lastHeartbeatSql().as('seen'))
    .where('machine_id', '=', machineId)
    .executeTakeFirstOrThrow();
}

for (const backend of testBackends()) {
  void describe(`liveness log through the API (${backend.name})`, () => {
    let cp: TestControlPlane;
    let owner: string;
    let group: string;
    let machineId: string;
    let token: string;

    const beat = (report: object = REPORT) =>
      cp.request(
        'POST',
        `${group}/providers/Microsoft.HybridCompute/machines/web-1/heartbeat?${V}`,
        { token, body: report },
      );
    const get = async () =>
      (
        await cp.request('GET', `${group}/providers/Microsoft.HybridCompute/machines/web-1?${V}`, {
          token: owner,
        })
      ).body['properties'] as Record<string, unknown>;
    const listed = async (status: string): Promise<string[]> => {
      const filter = encodeURIComponent(`status eq '${status}'`);
      const list = await cp.request(
        'GET',
        `${group}/providers/Microsoft.HybridCompute/machines?${V}&$filter=${filter}`,
        { token: owner },
      );
      assert.equal(list.status, 200, JSON.stringify(list.body));
      return (list.body['value'] as { name: string }[]).map((m) => m.name);
    };

    before(async () => {
      cp = await TestControlPlane.start(backend);
      owner = await cp.ownerToken();
      group = `/subscriptions/${cp.installation.subscriptionId}/resourceGroups/liveness`;
      const rg = await cp.request('PUT', `${group}?api-version=2021-04-01`, {
        token: owner,
        body: { location: 'westeurope' },
      });
      assert.ok(rg.status < 300, JSON.stringify(rg.body));
      const key = newMachineKey();
      const put = await cp.request(
        'PUT',
        `${group}/providers/Microsoft.HybridCompute/machines/web-1?${V}`,
        {
          token: owner,
          body: {
            location: 'westeurope',
            identity: { type: 'SystemAssigned' },
            properties: { clientPublicKey: key.spki, osName: 'linux' },
          },
        },
      );
      assert.equal(put.status, 201, JSON.stringify(put.body));
      machineId = String(put.body['id']).toLowerCase();
      const principalId = (put.body['identity'] as { principalId: string }).principalId;
      const answer = await requestMachineToken(cp, principalId, key);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      token = String(answer.body['access_token']);
    });
    after(() => cp.close());

    void it('shows an unchanged heartbeat at once, in the GET and in the status filter', async () => {
      const first = cp.clock.now();
      assert.equal((await beat()).status, 200);
      assert.deepEqual(await logOf(cp.db, machineId), [], 'a first report is written to the row');
      // Fourteen minutes later, the same report: appended, the row keeps the first time.
      cp.clock.advance(14 * MINUTE);
      const second = cp.clock.now();
      assert.equal((await beat()).status, 200);
      assert.deepEqual(await logOf(cp.db, machineId), [iso(second)]);
      assert.equal((await agentRow(cp.db, machineId)).last_heartbeat_at, iso(first));
      // Past the disconnect threshold counted from the row's time, within it from the log's.
      cp.clock.advance(6 * MINUTE);
      const shown = await get();
      assert.equal(shown['status'], 'Connected');
      assert.equal(shown['lastHeartbeat'], iso(second));
      assert.deepEqual(await listed('Connected'), ['web-1']);
      assert.deepEqual(await listed('Disconnected'), []);
      // The fold changes where the time is kept, not what any read shows.
      await foldLivenessLog(cp.db);
      assert.deepEqual(await logOf(cp.db, machineId), []);
      assert.equal((await agentRow(cp.db, machineId)).last_heartbeat_at, iso(second));
      assert.equal((await get())['lastHeartbeat'], iso(second));
      assert.deepEqual(await listed('Connected'), ['web-1']);
    });

    void it('writes a changed report to the row, and shows it', async () => {
      cp.clock.advance(MINUTE);
      assert.equal((await beat({ ...REPORT, agentVersion: '1.3' })).status, 200);
      assert.deepEqual(await logOf(cp.db, machineId), []);
      const shown = await get();
      assert.equal(shown['agentVersion'], '1.3');
      assert.equal(shown['lastHeartbeat'], iso(cp.clock.now()));
      cp.clock.advance(16 * MINUTE);
      assert.equal((await get())['status'], 'Disconnected');
      assert.deepEqual(await listed('Disconnected'), ['web-1']);
      // After a silence the same report starts a new run: written to the row, not appended.
      assert.equal((await beat({ ...REPORT, agentVersion: '1.3' })).status, 200);
      assert.deepEqual(await logOf(cp.db, machineId), []);
      const row = await agentRow(cp.db, machineId);
      assert.equal(row.connected_since, iso(cp.clock.now()));
      assert.equal((await get())['status'], 'Connected');
    });
  });

  void describe(`liveness log and its fold (${backend.name})`, () => {
    let store: TestDatabase;
    let db: Kysely<Database>;
    const clock = new ManualClock(Date.parse('2026-06-01T00:00:00.000Z'));
    let batcher: HeartbeatBatcher;
    let n = 0;

    /** A machine's agent row as onboarding leaves it; returns its id. */
    async function onboarded(): Promise<string> {
      const id = `/subscriptions/s/resourcegroups/g/providers/microsoft.hybridcompute/machines/m-${++n}`;
      await db
        .insertInto('machine_agents')
        .values({
          machine_id: id,
          principal_id: `p-${n}`,
          credential_expires_at: iso(clock.now() + 90 * 24 * 60 * MINUTE),
          revoked_at: null,
          rotation_requested: 0,
          last_heartbeat_at: null,
          connected_since: null,
          report: null,
          onboarded_at: iso(clock.now()),
        })
        .execute();
      return id;
    }

    const submit = (machineId: string, report = '{"v":1}') =>
      batcher.submit({ machineId, report, reportHash: reportHashOf(report) });

    before(async () => {
      store = await backend.open();
      db = store.db;
      batcher = new HeartbeatBatcher(db, clock, DEFAULT_MACHINE_TIMINGS);
    });
    after(() => store.dispose());

    void it('keeps the Connected run across heartbeats kept only in the log', async () => {
      const id = await onboarded();
      clock.advance(1000);
      const start = clock.now();
      assert.ok(await submit(id));
      clock.advance(10 * MINUTE);
      assert.ok(await submit(id));
      assert.equal((await logOf(db, id)).length, 1);
      // Twenty minutes after the row's time, ten after the log's: the run goes on.
      clock.advance(10 * MINUTE);
      assert.ok(await submit(id));
      let row = await agentRow(db, id);
      assert.equal(row.last_heartbeat_at, iso(clock.now()));
      assert.equal(row.connected_since, iso(start));
      // A real silence starts a new one.
      clock.advance(16 * MINUTE);
      assert.ok(await submit(id));
      row = await agentRow(db, id);
      assert.equal(row.connected_since, iso(clock.now()));
    });

    void it('answers with the credential of the row on either path, and nothing for a deleted one', async () => {
      const id = await onboarded();
      clock.advance(1000);
      const full = await submit(id);
      clock.advance(1000);
      const appended = await submit(id);
      assert.deepEqual(appended, full);
      assert.equal((await logOf(db, id)).length, 1);
      await db.deleteFrom('machine_agents').where('machine_id', '=', id).execute();
      assert.equal(await submit(id), undefined);
      assert.equal(await submit(id, '{"v":2}'), undefined);
    });

    void it('answers each heartbeat of one batch, mixed and repeated machines alike', async () => {
      const a = await onboarded();
      const b = await onboarded();
      clock.advance(1000);
      await Promise.all([submit(a), submit(b)]);
      clock.advance(1000);
      // One group commit: a repeats its report, then changes it; b changes; c does not exist.
      const answers = await Promise.all([
        submit(a),
        submit(b, '{"v":2}'),
        submit(a, '{"v":3}'),
        submit(`${a}-missing`),
      ]);
      const first = answers[0];
      assert.ok(first !== undefined);
      assert.deepEqual(answers, [first, first, first, undefined]);
      assert.deepEqual(await logOf(db, a), [iso(clock.now())]);
      assert.deepEqual(await logOf(db, b), []);
      const rowA = await agentRow(db, a);
      assert.equal(rowA.report, '{"v":3}');
      assert.equal(rowA.last_heartbeat_at, iso(clock.now()));
      assert.equal((await agentRow(db, b)).report, '{"v":2}');
      assert.equal(await logOf(db, `${a}-missing`).then((l) => l.length), 0);
    });

    void it('never loses a heartbeat that arrives during a fold', async () => {
      const id = await onboarded();
      clock.advance(1000);
      await submit(id);
      clock.advance(MINUTE);
      const folded = clock.now();
      await submit(id);
      let late: Promise<unknown> | undefined;
      let lateAt = 0;
      const moved = await foldLivenessLog(db, {
        afterMove: async (trx) => {
          if (late !== undefined) return;
          // The fold has moved `folded` into the row and not yet deleted anything.
          assert.equal((await agentRow(trx, id)).last_heartbeat_at, iso(folded));
          clock.advance(MINUTE);
          lateAt = clock.now();
          late = submit(id);
          // SQLite: it waits for the fold's transaction; PostgreSQL: it commits meanwhile.
          await Promise.race([late, delay(300)]);
        },
      });
      assert.ok(moved >= 1);
      await late;
      assert.deepEqual(await logOf(db, id), [iso(lateAt)]);
      let row = await agentRow(db, id);
      assert.equal(row.last_heartbeat_at, iso(folded));
      assert.equal(row.seen, iso(lateAt));
      await foldLivenessLog(db);
      row = await agentRow(db, id);
      assert.equal(row.last_heartbeat_at, iso(lateAt));
      assert.equal(row.seen, iso(lateAt));
      assert.deepEqual(await logOf(db, id), []);
    });

    void it('folds many machines in chunks while heartbeats keep arriving', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 25; i++) ids.push(await onboarded());
      clock.advance(1000);
      await Promise.all(ids.map((id) => submit(id)));
      // Each round is stamped with the clock it advanced to: the last round's is the newest.
      const round = async () => {
        clock.advance(1000);
        await Promise.all(ids.map((id) => submit(id)));
      };
      await round();
      // Heartbeats race each chunk of the fold; none may be lost or folded backwards.
      const racing: Promise<void>[] = [];
      await foldLivenessLog(db, {
        chunk: 4,
        afterMove: async () => {
          const r = round();
          racing.push(r);
          // SQLite: it waits for this chunk's transaction; PostgreSQL: it commits meanwhile.
          await Promise.race([r, delay(100)]);
        },
      });
      await Promise.all(racing);
      assert.ok(racing.length >= 7, `${racing.length} chunks`);
      const newest = iso(clock.now());
      for (const id of ids) assert.equal((await agentRow(db, id)).seen, newest, id);
      await foldLivenessLog(db);
      for (const id of ids) {
        const row = await agentRow(db, id);
        assert.equal(row.last_heartbeat_at, newest, id);
        assert.deepEqual(await logOf(db, id), [], id);
      }
    });

    void it('stops before its next chunk once its signal is aborted; reads still see the rest', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) ids.push(await onboarded());
      clock.advance(1000);
      await Promise.all(ids.map((id) => submit(id)));
      clock.advance(1000);
      await Promise.all(ids.map((id) => submit(id)));
      const newest = iso(clock.now());
      const shutdown = new AbortController();
      let chunks = 0;
      const moved = await foldLivenessLog(db, {
        chunk: 2,
        signal: shutdown.signal,
        afterMove: () => {
          chunks++;
          shutdown.abort();
          return Promise.resolve();
        },
      });
      assert.equal(chunks, 1);
      assert.equal(moved, 2);
      const left = [];
      for (const id of ids) {
        const row = await agentRow(db, id);
        assert.equal(row.seen, newest, id);
        if (row.last_heartbeat_at !== newest) left.push(id);
      }
      assert.equal(left.length, 4, 'the machines of the chunks not folded');
      assert.equal(await foldLivenessLog(db), 4);
      for (const id of ids) {
        assert.equal((await agentRow(db, id)).last_heartbeat_at, newest, id);
        assert.deepEqual(await logOf(db, id), [], id);
      }
    });

    void it('never moves a row back in time, and drops entries of machines that are gone', async () => {
      const id = await onboarded();
      clock.advance(MINUTE);
      await submit(id);
      const newest = clock.now();
      // An older entry (another node's clock behind this one's) is covered by the row.
      await db
        .insertInto('liveness_log')
        .values({ machine_id: id, at: iso(newest - 5000) })
        .execute();
      await db
        .insertInto('liveness_log')
        .values({ machine_id: `${id}-gone`, at: iso(newest) })
        .execute();
      assert.equal((await agentRow(db, id)).seen, iso(newest));
      await foldLivenessLog(db);
      assert.equal((await agentRow(db, id)).last_heartbeat_at, iso(newest));
      assert.deepEqual(await logOf(db, id), []);
      assert.deepEqual(await logOf(db, `${id}-gone`), []);
    });

    void it("does not count a deleted machine's entries for a new one of the same name", async () => {
      const id = await onboarded();
      clock.advance(MINUTE);
      const old = clock.now();
      await db
        .insertInto('liveness_log')
        .values({ machine_id: id, at: iso(old) })
        .execute();
      await db.deleteFrom('machine_agents').where('machine_id', '=', id).execute();
      clock.advance(MINUTE);
      n--;
      assert.equal(await onboarded(), id);
      assert.equal((await agentRow(db, id)).seen, null);
      await foldLivenessLog(db);
      assert.equal((await agentRow(db, id)).last_heartbeat_at, null);
      assert.deepEqual(await logOf(db, id), []);
    });
  });
}
