// The activity log store: durable records, scope and time filters that treat names as
// literals, and paging that neither skips nor repeats events sharing a timestamp.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Kysely } from 'kysely';
import type { ActivityEvent } from '../api/activity-log.js';
import { ManualClock } from '../clock.js';
import type { Database } from '../store/schema.js';
import type { TestDatabase } from '../store/test-databases.js';
import { armTestBackends } from '../resources/arm-test-app.js';
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
