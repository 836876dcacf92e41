// The machines list filters and sorts by OS, tag and last status change in SQL; on each store its
// pages, read to the end through their nextLinks, list exactly the machines, in exactly the order,
// that the first version's in-memory filter and sort gives over every machine.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_MACHINE_TIMINGS } from '../machines/machine-timings.js';
import { READER_ROLE_ID } from '../rbac/built-in-roles.js';
import type { MachineAgentsTable } from '../store/schema.js';
import { ArmTestApp, armTestBackends } from './testing/arm-test-app.js';
import { parseMachineListQuery } from './machine-list-query.js';
import { compareEntries, listEntryOf, matchesFilter } from './testing/machine-list-oracle.js';

const V = 'api-version=2024-07-10';
const MINUTE = 60_000;
const DAY = 86_400_000;

/** A small deterministic generator, so a failure names a fleet that can be built again. */
function generator(seed: number): <T>(choices: readonly T[]) => T {
  let state = seed;
  return (choices) => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    // The high bits: the low ones of this generator repeat with a short period.
    return choices[Math.floor(state / 65_536) % choices.length] as (typeof choices)[number];
  };
}

const FILTERS = [
  undefined,
  "osType eq 'linux'",
  "osType eq 'WINDOWS'",
  "tagName eq 'team'",
  "tagName eq 'TEAM' and tagValue eq 'blue'",
  "tagName eq 'env' and tagValue eq 'Prod'",
  "tagName eq 'team' and tagValue eq 'o''brien'",
  "osType eq 'linux' and tagName eq 'team' and status eq 'Connected'",
  "resourceGroup eq 'east' and osType eq 'linux' and contains(name,'1')",
];
const SORTS = ['osName', 'osName desc', 'lastStatusChange', 'lastStatusChange desc', 'name'];

for (const backend of armTestBackends()) {
  void describe(`machine list filters and sorts in SQL (${backend.name})`, () => {
    let t: ArmTestApp;
    let sub: string;
    let reader: string;

    before(async () => {
      t = await ArmTestApp.start({ backend, fast: true });
      sub = await t.addSubscription();
      reader = await t.addPrincipal();
      await t.assign(reader, READER_ROLE_ID, `/subscriptions/${sub}`);
      for (const group of ['east', 'west']) await t.addResourceGroup(sub, group);
      const pick = generator(20261203);
      const now = t.clock.now();
      const iso = (ms: number) => new Date(ms).toISOString();
      // Whatever a machine's resource may show: OS facts in its properties, in its agent's report
      // (a string, another type, null) or nowhere; tags in any case; every status and its change.
      const osNames = ['Ubuntu 22.04', 'ubuntu 20.04', 'Debian GNU/Linux 12', 'Windows Server'];
      const osTypes = ['linux', 'Linux', 'windows'];
      const tags = [
        {},
        { team: 'blue' },
        { Team: 'red' },
        { TEAM: 'blue', env: 'Prod' },
        { env: 'prod' },
        { team: "o'brien" },
      ];
      const reports = [
        undefined,
        {},
        { osName: pick(osNames), osType: pick(osTypes) },
        { osName: 42, osType: null },
        { osName: null, osType: 'windows' },
        { osName: 'AlmaLinux 9', osType: 'linux' },
      ];
      const heartbeats = [null, now - MINUTE, now - 10 * MINUTE, now - 20 * MINUTE, now - 50 * DAY];
      for (let index = 0; index < 60; index++) {
        const group = pick(['east', 'west']);
        const name = `m-${String(index).padStart(2, '0')}`;
        const id = await t.addMachine(sub, group, name);
        const properties: Record<string, unknown> = { vmId: randomUUID() };
        if (pick([true, true, false])) properties['osName'] = pick(osNames);
        if (pick([true, false])) properties['osType'] = pick(osTypes);
        await t.db
          .updateTable('machines')
          .set({
            properties: JSON.stringify(properties),
            tags: JSON.stringify(pick(tags)),
            created_at: iso(now - index * MINUTE),
          })
          .where('id', '=', id)
          .execute();
        if (index % 7 === 3) continue; // no agent at all
        const last = pick(heartbeats);
        const report = pick(reports);
        const agent: MachineAgentsTable = {
          machine_id: id,
          principal_id: randomUUID(),
          onboarded_at: iso(now - pick([2, 60]) * DAY - index * 1000),
          last_heartbeat_at: last === null ? null : iso(last - index),
          connected_since:
            last === null ? null : pick([null, iso(last - pick([1, 3]) * 3_600_000)]),
          credential_expires_at: iso(now + pick([30 * DAY, -DAY, 0])),
          revoked_at: pick([null, null, iso(now - 2 * MINUTE), iso(now + DAY)]),
          rotation_requested: 0,
          report: report === undefined ? null : JSON.stringify(report),
          report_hash: null,
        };
        await t.db.insertInto('machine_agents').values(agent).execute();
        // Heartbeats not yet folded into the row count as much as the row's own time.
        if (last !== null && index % 4 === 1) {
          const at = iso(last - index + pick([2, 30]) * MINUTE);
          await t.db.insertInto('liveness_log').values({ machine_id: id, at }).execute();
        }
      }
    });
    after(() => t.close());

    /** Every page of the list through its nextLinks: the names in order, and the count. */
    const listed = async (query: string): Promise<{ names: string[]; count: number }> => {
      const names: string[] = [];
      let url = `/subscriptions/${sub}/providers/Microsoft.HybridCompute/machines?${V}&$top=7&${query}`;
      let count = -1;
      for (;;) {
        const answer = await t.inject('GET', url, { as: reader });
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
        names.push(...(answer.body['value'] as { name: string }[]).map((m) => m.name));
        count = answer.body['@odata.count'] as number;
        const next = answer.body['nextLink'];
        if (typeof next !== 'string') return { names, count };
        const link = new URL(next);
        url = `${link.pathname}${link.search}`;
      }
    };

    /** The first version's answer: every machine read, weighed, filtered and sorted here. */
    const expected = async (filter: string | undefined, orderby: string): Promise<string[]> => {
      const query = parseMachineListQuery({ $filter: filter, $orderby: orderby });
      assert.ok(query !== undefined);
      const rows = await t.db
        .selectFrom('machines')
        .selectAll()
        .where('subscription_id', '=', sub)
        .execute();
      // The last heartbeat as every read takes it: the row's, or a newer unfolded one.
      const log = await t.db.selectFrom('liveness_log').selectAll().execute();
      const agents = new Map(
        (await t.db.selectFrom('machine_agents').selectAll().execute()).map((a) => {
          const newest = log
            .filter((entry) => entry.machine_id === a.machine_id)
            .map((entry) => entry.at)
            .reduce((x, y) => (y > x ? y : x), a.last_heartbeat_at ?? '');
          return [a.machine_id, { ...a, last_heartbeat_at: newest === '' ? null : newest }];
        }),
      );
      return rows
        .map((row) => listEntryOf(row, agents.get(row.id), t.clock.now(), DEFAULT_MACHINE_TIMINGS))
        .filter((entry) => matchesFilter(entry, query.filter))
        .sort(compareEntries(query.orderBy))
        .map((entry) => entry.name);
    };

    const compareAll = async (): Promise<void> => {
      for (const filter of FILTERS) {
        for (const orderby of SORTS) {
          const query = [
            ...(filter === undefined ? [] : [`$filter=${encodeURIComponent(filter)}`]),
            `$orderby=${encodeURIComponent(orderby)}`,
          ].join('&');
          const want = await expected(filter, orderby);
          const got = await listed(query);
          assert.deepEqual(got.names, want, `${filter ?? 'no filter'}, by ${orderby}`);
          assert.equal(got.count, want.length, `${filter ?? 'no filter'}, by ${orderby}: count`);
        }
      }
    };

    void it('lists what the in-memory filter and sort list, page by page', async () => {
      await compareAll();
      // Some filters must match something, or the comparison proves little.
      for (const filter of FILTERS.slice(1, 7)) {
        assert.ok((await expected(filter, 'name')).length >= 2, filter);
      }
      for (const status of ['Connected', 'Disconnected', 'Expired']) {
        assert.ok((await expected(`status eq '${status}'`, 'name')).length > 2, status);
      }
    });

    void it('still does when time moves machines on to Disconnected and Expired', async () => {
      t.clock.advance(12 * MINUTE);
      await compareAll();
      t.clock.advance(44 * DAY);
      await compareAll();
    });
  });
}
