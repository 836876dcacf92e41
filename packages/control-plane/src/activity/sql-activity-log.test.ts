// The activity log store: durable records, scope and time filters that treat names as
// literals, and paging that neither skips nor repeats events sharing a timestamp.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Kysely } from 'kysely';
import type { ActivityEvent } from '../api/activity-log.js';
import { ManualClock } from '../clock.js';
import type { Database } from '../store/schema.js';
import type { TestDatabase } from '../store/testing/test-databases.js';
import { armTestBackends } from '../resources/testing/arm-test-app.js';
import { SqlActivityLog } from './sql-activity-log.js';

const SUB = '6b1f6471-1bf0-4dda-aec3-cb9272f09590';

function event(resourceId: string, correlationId: string): ActivityEvent {
  return {
    correlationId,
    caller: 'ops@tether.test',
    operationName: 'Microsoft.HybridCompute/machines/write',
    status: 'Succeeded',
    subStatus: '200',
    resourceId,
    httpMethod: 'PUT',
    clientIp: '127.0.0.1',
  };
}

for (const backend of armTestBackends())
  void describe(`SqlActivityLog (${backend.name})`, () => {
    let store: TestDatabase;
    let db: Kysely<Database>;
    const clock = new ManualClock();
    let log: SqlActivityLog;

    before(async () => {
      store = await backend.open();
      db = store.db;
      log = new SqlActivityLog(db, clock);
    });
    after(() => store.dispose());

    void it('names each caller in words: display name, or a machine identity as its machine', async () => {
      const stamp = new Date(clock.now()).toISOString();
      const rg = `/subscriptions/${SUB}/resourceGroups/Names`;
      const machineId = `${rg}/providers/Microsoft.HybridCompute/machines/web-07`.toLowerCase();
      await db
        .insertInto('machines')
        .values({
          id: machineId,
          subscription_id: SUB,
          resource_group: 'names',
          name: 'web-07',
          location: 'westeurope',
          tags: '{}',
          properties: '{}',
          created_at: stamp,
          updated_at: stamp,
        })
        .execute();
      const principal = (id: string, values: Partial<Record<string, string>>) => ({
        id,
        type: 'ServicePrincipal' as const,
        display_name: values['display_name'] ?? id,
        app_id: values['app_id'] ?? null,
        user_principal_name: values['user_principal_name'] ?? null,
        machine_id: values['machine_id'] ?? null,
        description: null,
        created_at: stamp,
      });
      await db
        .insertInto('principals')
        .values([
          principal('p-app', { app_id: 'app-1', display_name: 'deploy pipeline' }),
          { ...principal('p-user', { display_name: 'Olivia Ops' }), type: 'User' },
          principal('p-machine', { display_name: 'ignored', machine_id: machineId }),
        ])
        .execute();
      await db
        .updateTable('principals')
        .set({ user_principal_name: 'olivia@tether.test' })
        .where('id', '=', 'p-user')
        .execute();
      for (const [caller, correlationId] of [
        ['app-1', 'n-1'],
        ['olivia@tether.test', 'n-2'],
        ['p-machine', 'n-3'],
        ['deleted-app', 'n-4'],
      ] as const) {
        await log.record({ ...event(`${rg}/providers/x/y/z`, correlationId), caller });
      }
      const page = await log.query({
        subscriptionId: SUB,
        from: clock.now(),
        to: clock.now(),
        resourceGroup: 'names',
      });
      assert.deepEqual(
        page.value.map((e) => [e.correlationId, e.caller, e.callerDisplayName]).sort(),
        [
          ['n-1', 'app-1', 'deploy pipeline'],
          ['n-2', 'olivia@tether.test', 'Olivia Ops'],
          ['n-3', 'p-machine', 'web-07'],
          ['n-4', 'deleted-app', null],
        ],
      );
    });

    void it('pages through events that share one timestamp without loss or repeats', async () => {
      const rg = `/subscriptions/${SUB}/resourceGroups/Paging`;
      for (let i = 0; i < 7; i++) await log.record(event(`${rg}/providers/x/y/m${i}`, `c-${i}`));
      const seen: string[] = [];
      let skipToken: string | undefined;
      do {
        const page = await log.query({
          subscriptionId: SUB.toUpperCase(),
          from: clock.now(),
          to: clock.now(),
          resourceGroup: 'paging',
          pageSize: 3,
          ...(skipToken === undefined ? {} : { skipToken }),
        });
        assert.ok(page.value.length <= 3);
        seen.push(...page.value.map((e) => e.correlationId));
        skipToken = page.skipToken;
      } while (skipToken !== undefined);
      assert.deepEqual([...seen].sort(), ['c-0', 'c-1', 'c-2', 'c-3', 'c-4', 'c-5', 'c-6']);
    });

    void it('matches a resource and what is below it, taking _ and % literally', async () => {
      clock.advance(1000);
      const base = `/subscriptions/${SUB}/resourceGroups/lit/providers/Microsoft.HybridCompute/machines`;
      await log.record(event(`${base}/web_1`, 'exact'));
      await log.record(event(`${base}/web_1/extensions/ama`, 'child'));
      await log.record(event(`${base}/webx1`, 'lookalike'));
      await log.record(event(`${base}/web_10`, 'prefix'));
      const page = await log.query({
        subscriptionId: SUB,
        from: clock.now(),
        to: clock.now(),
        resourceUri: `${base}/WEB_1`,
      });
      assert.deepEqual(page.value.map((e) => e.correlationId).sort(), ['child', 'exact']);
    });

    void it('keeps to the time range and the subscription', async () => {
      clock.advance(60_000);
      await log.record(event(`/subscriptions/${SUB}/resourceGroups/t`, 'later'));
      await log.record(
        event(`/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/t`, 'other-sub'),
      );
      const page = await log.query({ subscriptionId: SUB, from: clock.now() - 1, to: clock.now() });
      assert.deepEqual(
        page.value.map((e) => e.correlationId),
        ['later'],
      );
      assert.equal(page.value[0]?.eventTimestamp, new Date(clock.now()).toISOString());
      assert.equal(page.value[0]?.resourceGroupName, 't');
    });
  });
