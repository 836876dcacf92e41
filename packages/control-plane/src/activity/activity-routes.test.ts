// The activity log end to end in process: writes and denied writes are recorded with caller,
// operation, scope, status, correlation id and time, and read back by scope and time range.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  CONNECTED_MACHINE_ONBOARDING_ROLE_ID,
  OWNER_ROLE_ID,
  READER_ROLE_ID,
} from '../rbac/built-in-roles.js';
import { ArmTestApp, PUBLIC_URL, armTestBackends } from '../resources/testing/arm-test-app.js';
import type { ActivityEventData } from './sql-activity-log.js';

const HOUR = 3_600_000;

function errorOf(body: Record<string, unknown>): {
  code: string;
  target?: string;
  message: string;
} {
  return body['error'] as { code: string; target?: string; message: string };
}

for (const backend of armTestBackends()) {
  void describe(`activity log (${backend.name})`, () => {
    let t: ArmTestApp;
    let sub: string;
    let owner: string;
    let ownerName: string;
    let onboarder: string;
    let start: number;
    const machines = (rg: string): string =>
      `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.HybridCompute/machines`;
    const query = (filter: string): string =>
      `/subscriptions/${sub}/providers/Microsoft.Insights/eventtypes/management/values?api-version=2015-04-01&$filter=${encodeURIComponent(filter)}`;
    const iso = (ms: number): string => new Date(ms).toISOString();

    before(async () => {
      t = await ArmTestApp.start({ backend, pageSize: 2 });
      sub = await t.addSubscription();
      await t.addResourceGroup(sub, 'rg1');
      await t.addResourceGroup(sub, 'rg2');
      ownerName = 'olivia';
      owner = await t.addPrincipal('User', ownerName);
      await t.assign(owner, OWNER_ROLE_ID, `/subscriptions/${sub}`);
      onboarder = await t.addPrincipal('ServicePrincipal', 'onboarding-sp');
      await t.assign(onboarder, CONNECTED_MACHINE_ONBOARDING_ROLE_ID, `/subscriptions/${sub}`);
      start = t.clock.now();

      const headers = (id: string) => ({ 'x-ms-correlation-request-id': id });
      await t.inject('PUT', `${machines('rg1')}/m1?api-version=2021-05-20`, {
        as: onboarder,
        body: { location: 'westeurope' },
        headers: headers('00000000-0000-0000-0000-000000000001'),
      });
      t.clock.advance(HOUR);
      await t.inject('PUT', `${machines('rg2')}/m2?api-version=2021-05-20`, {
        as: owner,
        body: { location: 'westeurope' },
        headers: headers('00000000-0000-0000-0000-000000000002'),
      });
      t.clock.advance(HOUR);
      await t.inject('DELETE', `${machines('rg1')}/m1?api-version=2021-05-20`, {
        as: onboarder,
        headers: headers('00000000-0000-0000-0000-000000000003'),
      });
      t.clock.advance(HOUR);
      await t.inject('GET', `${machines('rg1')}/m1?api-version=2021-05-20`, { as: owner });
    });
    after(() => t.close());

    async function all(url: string, as = owner): Promise<ActivityEventData[]> {
      const events: ActivityEventData[] = [];
      let next: string | undefined = url;
      while (next !== undefined) {
        const res = await t.inject('GET', next, { as });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        events.push(...(res.body['value'] as ActivityEventData[]));
        next = (res.body['nextLink'] as string | undefined)?.slice(PUBLIC_URL.length);
      }
      return events;
    }

    void it('records every write and every denied write, newest first, but no reads', async () => {
      const events = await all(query(`eventTimestamp ge '${iso(start)}'`));
      assert.deepEqual(
        events.map((e) => e.correlationId),
        [
          '00000000-0000-0000-0000-000000000003',
          '00000000-0000-0000-0000-000000000002',
          '00000000-0000-0000-0000-000000000001',
        ],
      );
      const [denied, created, first] = events;
      assert.equal(denied?.caller, 'onboarding-sp');
      assert.equal(denied?.operationName.value, 'Microsoft.HybridCompute/machines/delete');
      assert.equal(denied?.status.value, 'Failed');
      assert.equal(denied?.subStatus.value, 'AuthorizationFailed');
      assert.equal(
        denied?.resourceId,
        `/subscriptions/${sub}/resourcegroups/rg1/providers/microsoft.hybridcompute/machines/m1`,
      );
      assert.equal(denied?.resourceGroupName, 'rg1');
      assert.equal(denied?.eventTimestamp, iso(start + 2 * HOUR));
      assert.equal(denied?.httpRequest.method, 'DELETE');
      assert.equal(created?.caller, ownerName);
      assert.equal(created?.status.value, 'Succeeded');
      assert.equal(created?.subStatus.value, '201');
      assert.equal(created?.operationName.value, 'Microsoft.HybridCompute/machines/write');
      assert.equal(first?.eventTimestamp, iso(start));
    });

    void it('filters by time range, resource group and resource', async () => {
      const range = await all(
        query(
          `eventTimestamp ge '${iso(start + HOUR)}' and eventTimestamp le '${iso(start + HOUR)}'`,
        ),
      );
      assert.deepEqual(
        range.map((e) => e.correlationId),
        ['00000000-0000-0000-0000-000000000002'],
      );
      const group = await all(
        query(`eventTimestamp ge '${iso(start)}' and resourceGroupName eq 'RG1'`),
      );
      assert.deepEqual(
        group.map((e) => e.correlationId),
        ['00000000-0000-0000-0000-000000000003', '00000000-0000-0000-0000-000000000001'],
      );
      const resource = await all(
        query(`eventTimestamp ge '${iso(start)}' and resourceUri eq '${machines('rg2')}/m2'`),
      );
      assert.deepEqual(
        resource.map((e) => e.correlationId),
        ['00000000-0000-0000-0000-000000000002'],
      );
    });

    void it('lets a Reader of one group read that group only', async () => {
      const reader = await t.addPrincipal();
      await t.assign(reader, READER_ROLE_ID, `/subscriptions/${sub}/resourcegroups/rg2`);
      const own = await all(
        query(`eventTimestamp ge '${iso(start)}' and resourceGroupName eq 'rg2'`),
        reader,
      );
      assert.equal(own.length, 1);
      const whole = await t.inject('GET', query(`eventTimestamp ge '${iso(start)}'`), {
        as: reader,
      });
      assert.equal(whole.status, 403);
      const onboard = await t.inject('GET', query(`eventTimestamp ge '${iso(start)}'`), {
        as: onboarder,
      });
      assert.equal(onboard.status, 403, 'Onboarding has no */read');
    });

    void it('names the bad part of a bad filter', async () => {
      const cases: [string, RegExp][] = [
        ['', /required/],
        [`eventTimestamp le '${iso(start)}'`, /'eventTimestamp ge' is required/],
        [`eventTimestamp ge 'yesterday'`, /yesterday/],
        [`eventTimestamp ge '${iso(start)}' and level eq 'Error'`, /level eq 'Error'/],
        [`eventTimestamp ge '${iso(start)}' or resourceGroupName eq 'rg1'`, /or resourceGroupName/],
        [
          `eventTimestamp ge '${iso(start + HOUR)}' and eventTimestamp le '${iso(start)}'`,
          /before its start/,
        ],
        [
          `eventTimestamp ge '${iso(start)}' and resourceUri eq '/subscriptions/${randomUUID()}/resourceGroups/x'`,
          /outside subscription/,
        ],
      ];
      for (const [filter, message] of cases) {
        const res = await t.inject('GET', query(filter), { as: owner });
        assert.equal(res.status, 400, filter);
        assert.equal(errorOf(res.body).target, '$filter', filter);
        assert.match(errorOf(res.body).message, message, filter);
      }
      const skip = await t.inject(
        'GET',
        `${query(`eventTimestamp ge '${iso(start)}'`)}&$skiptoken=forged`,
        { as: owner },
      );
      assert.equal(skip.status, 400);
      assert.equal(errorOf(skip.body).target, '$skiptoken');
    });
  });
}
