// The machines list's $filter, $orderby and $top: parsed into a query, applied to machines, and
// answered with @odata.count and a nextLink that keeps the query, against the real routes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OWNER_ROLE_ID, READER_ROLE_ID } from '../rbac/built-in-roles.js';
import { ArmTestApp, armTestBackends } from './testing/arm-test-app.js';
import { parseMachineListQuery } from './machine-list-query.js';

const V = 'api-version=2024-07-10';

void describe('machine list query options', () => {
  void it('is absent when none of $filter, $orderby and $top is given', () => {
    assert.equal(parseMachineListQuery({}), undefined);
  });

  void it('reads every filter clause, the sort and the page size', () => {
    const query = parseMachineListQuery({
      $filter:
        "status eq 'connected' and resourceGroup eq 'Web' and osType eq 'Linux' and tagName eq 'team' and tagValue eq 'o''brien' and contains(name,'DB')",
      $orderby: 'lastStatusChange desc',
      $top: '25',
    });
    assert.deepEqual(query, {
      filter: {
        status: 'Connected',
        resourceGroup: 'web',
        osType: 'linux',
        tagName: 'team',
        tagValue: "o'brien",
        nameContains: 'db',
      },
      orderBy: { field: 'lastStatusChange', descending: true },
      top: 25,
    });
  });

  const refused: [string, Record<string, string>, RegExp][] = [
    ['an unknown field', { $filter: "location eq 'x'" }, /not supported/],
    ['an unknown status', { $filter: "status eq 'Sleeping'" }, /Connected, Disconnected, Expired/],
    ['a tag value alone', { $filter: "tagValue eq 'x'" }, /needs tagName/],
    ['an unknown sort', { $orderby: 'vmId asc' }, /sort by one of/],
    ['a zero page', { $top: '0' }, /1 to 1000/],
    ['a page too large', { $top: '5000' }, /1 to 1000/],
    ['a page that is not a number', { $top: 'ten' }, /whole number/],
  ];
  for (const [what, query, message] of refused) {
    void it(`refuses ${what}`, () => {
      assert.throws(() => parseMachineListQuery(query), message);
    });
  }
});

for (const backend of armTestBackends()) {
  void describe(`machine list queries (${backend.name})`, () => {
    let t: ArmTestApp;
    let sub: string;
    let reader: string;
    const list = (query: string) =>
      t.inject(
        'GET',
        `/subscriptions/${sub}/providers/Microsoft.HybridCompute/machines?${V}&${query}`,
        {
          as: reader,
        },
      );
    const names = (body: Record<string, unknown>): string[] =>
      (body['value'] as { name: string }[]).map((m) => m.name);

    before(async () => {
      t = await ArmTestApp.start({ backend });
      sub = await t.addSubscription();
      const owner = await t.addPrincipal();
      reader = await t.addPrincipal();
      await t.assign(owner, OWNER_ROLE_ID, `/subscriptions/${sub}`);
      await t.assign(reader, READER_ROLE_ID, `/subscriptions/${sub}`);
      const machines: [string, string, string, Record<string, string>][] = [
        ['web', 'web-01', 'linux', { team: 'blue' }],
        ['web', 'web-02', 'linux', { team: 'red' }],
        ['db', 'db-01', 'linux', { team: 'blue' }],
        ['db', 'db-02', 'windows', {}],
        ['db', 'Cache-01', 'linux', {}],
      ];
      for (const rg of ['web', 'db']) await t.addResourceGroup(sub, rg);
      for (const [rg, name, osType, tags] of machines) {
        const put = await t.inject(
          'PUT',
          `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.HybridCompute/machines/${name}?${V}`,
          {
            as: owner,
            body: { location: 'westeurope', tags, properties: { osType, osName: osType } },
          },
        );
        assert.ok(put.status < 300, JSON.stringify(put.body));
      }
    });
    after(() => t.close());

    void it('filters by group, OS, tag and name and counts what matches', async () => {
      const cases: [string, string[]][] = [
        ["$filter=resourceGroup eq 'web'", ['web-01', 'web-02']],
        ["$filter=osType eq 'windows'", ['db-02']],
        ["$filter=tagName eq 'team' and tagValue eq 'blue'", ['db-01', 'web-01']],
        ["$filter=tagName eq 'team'", ['db-01', 'web-01', 'web-02']],
        ["$filter=contains(name,'01')", ['Cache-01', 'db-01', 'web-01']],
        [
          "$filter=status eq 'Disconnected' and resourceGroup eq 'db'",
          ['Cache-01', 'db-01', 'db-02'],
        ],
        ["$filter=status eq 'Connected'", []],
      ];
      for (const [query, expected] of cases) {
        const answer = await list(encodeURI(query));
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
        assert.deepEqual(names(answer.body), expected, query);
        assert.equal(answer.body['@odata.count'], expected.length, query);
      }
    });

    void it('sorts and pages with a nextLink that keeps the query', async () => {
      const first = await list('$orderby=name%20desc&$top=2');
      assert.deepEqual(names(first.body), ['web-02', 'web-01']);
      assert.equal(first.body['@odata.count'], 5);
      const next = new URL(String(first.body['nextLink']));
      assert.equal(next.searchParams.get('$orderby'), 'name desc');
      const second = await t.inject('GET', `${next.pathname}${next.search}`, { as: reader });
      assert.deepEqual(names(second.body), ['db-02', 'db-01']);
      const third = await t.inject(
        'GET',
        `${new URL(String(second.body['nextLink'])).pathname}${new URL(String(second.body['nextLink'])).search}`,
        { as: reader },
      );
      assert.deepEqual(names(third.body), ['Cache-01']);
      assert.equal(third.body['nextLink'], undefined);
    });

    void it('answers a bad query with a 400 naming the parameter', async () => {
      const bad = await list("$filter=vmId eq 'x'");
      assert.equal(bad.status, 400);
      assert.equal((bad.body['error'] as { target?: string }).target, '$filter');
    });
  });
}

for (const backend of armTestBackends()) {
  void describe(`machine status in the list's SQL (${backend.name})`, () => {
    let t: ArmTestApp;
    let sub: string;
    let reader: string;
    const MINUTE = 60_000;
    const DAY = 86_400_000;
    const list = async (query: string) => {
      const answer = await t.inject(
        'GET',
        `/subscriptions/${sub}/providers/Microsoft.HybridCompute/machines?${V}&${encodeURI(query)}`,
        { as: reader },
      );
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      return answer.body['value'] as { name: string; properties: { status: string } }[];
    };

    before(async () => {
      t = await ArmTestApp.start({ backend });
      sub = await t.addSubscription();
      reader = await t.addPrincipal();
      await t.assign(reader, READER_ROLE_ID, `/subscriptions/${sub}`);
      await t.addResourceGroup(sub, 'rg');
      const now = t.clock.now();
      const iso = (ms: number) => new Date(ms).toISOString();
      // Every way a machine reaches each status: silence, the key's expiry, a revocation, no
      // heartbeat yet, no agent at all.
      const agents: [string, Partial<Record<string, string | null>> | undefined][] = [
        ['m-fresh', { last_heartbeat_at: iso(now - MINUTE) }],
        ['m-recent', { last_heartbeat_at: iso(now - 10 * MINUTE) }],
        ['m-silent', { last_heartbeat_at: iso(now - 20 * MINUTE) }],
        ['m-never', { last_heartbeat_at: null, onboarded_at: iso(now - DAY) }],
        ['m-gone', { last_heartbeat_at: iso(now - 50 * DAY) }],
        ['m-never-old', { last_heartbeat_at: null, onboarded_at: iso(now - 60 * DAY) }],
        ['m-key-lapsed', { last_heartbeat_at: iso(now - MINUTE), credential_expires_at: iso(now) }],
        ['m-revoked', { last_heartbeat_at: iso(now - MINUTE), revoked_at: iso(now - DAY) }],
        ['m-revoked-later', { last_heartbeat_at: iso(now - MINUTE), revoked_at: iso(now + DAY) }],
        ['m-no-agent', undefined],
      ];
      for (const [name, agent] of agents) {
        const id = await t.addMachine(sub, 'rg', name);
        if (agent === undefined) continue;
        await t.db
          .insertInto('machine_agents')
          .values({
            machine_id: id,
            principal_id: crypto.randomUUID(),
            credential_expires_at: iso(now + 30 * DAY),
            revoked_at: null,
            rotation_requested: 0,
            last_heartbeat_at: null,
            connected_since: null,
            report: null,
            onboarded_at: iso(now - 2 * DAY),
            ...agent,
          })
          .execute();
      }
    });
    after(() => t.close());

    /** Each machine's status as its own resource derives it, the oracle for the SQL. */
    const statuses = async (): Promise<Map<string, string>> =>
      new Map((await list('$top=100')).map((m) => [m.name, m.properties.status]));

    const checkAgainstResources = async (): Promise<Map<string, string>> => {
      const derived = await statuses();
      const rank = (s: string | undefined) =>
        ['Connected', 'Disconnected', 'Expired'].indexOf(s ?? '');
      for (const status of ['Connected', 'Disconnected', 'Expired']) {
        const listed = (await list(`$filter=status eq '${status}'&$orderby=name`)).map(
          (m) => m.name,
        );
        const expected = [...derived].filter(([, s]) => s === status).map(([n]) => n);
        assert.deepEqual(listed, expected.sort(), status);
      }
      // Sorted by status, ties by id (here the name, all in one group); descending keeps the ties.
      const byStatus = [...derived.keys()].sort(
        (a, b) => rank(derived.get(a)) - rank(derived.get(b)) || (a < b ? -1 : 1),
      );
      assert.deepEqual(
        (await list('$orderby=status')).map((m) => m.name),
        byStatus.slice(0, 10),
      );
      const descending = [...derived.keys()].sort(
        (a, b) => rank(derived.get(b)) - rank(derived.get(a)) || (a < b ? -1 : 1),
      );
      assert.deepEqual(
        (await list('$orderby=status desc&$top=4')).map((m) => m.name),
        descending.slice(0, 4),
      );
      return derived;
    };

    void it('filters and sorts by status as each machine derives it, at the time asked', async () => {
      const derived = await checkAgainstResources();
      assert.deepEqual(Object.fromEntries(derived), {
        'm-fresh': 'Connected',
        'm-gone': 'Expired',
        'm-key-lapsed': 'Expired',
        'm-never': 'Disconnected',
        'm-never-old': 'Expired',
        'm-no-agent': 'Disconnected',
        'm-recent': 'Connected',
        'm-revoked': 'Expired',
        'm-revoked-later': 'Connected',
        'm-silent': 'Disconnected',
      });
      // Nothing stored goes stale: ten minutes on, the recent one is Disconnected in SQL too.
      t.clock.advance(10 * MINUTE);
      const later = await checkAgainstResources();
      assert.equal(later.get('m-recent'), 'Disconnected');
      assert.equal(later.get('m-fresh'), 'Connected');
    });
  });
}
