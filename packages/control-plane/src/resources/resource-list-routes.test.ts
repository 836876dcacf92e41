// `az resource list`: every machine and extension of a subscription or group, filtered by
// group, type, name, location and tag, expanded, paged, and only what the caller may read.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { RoleDefinitionStore } from '../authorization/role-definition-store.js';
import { OWNER_ROLE_ID, READER_ROLE_ID } from '../rbac/built-in-roles.js';
import { ArmTestApp, PUBLIC_URL } from './testing/arm-test-app.js';

const V = 'api-version=2022-09-01';

interface Listed {
  id: string;
  name: string;
  type: string;
  createdTime?: string;
  provisioningState?: string;
}

void describe('generic resource lists', () => {
  let t: ArmTestApp;
  let sub: string;
  let owner: string;

  async function addExtension(machineId: string, name: string): Promise<void> {
    const now = new Date(t.clock.now()).toISOString();
    await t.db
      .insertInto('machine_extensions')
      .values({
        id: `${machineId}/extensions/${name.toLowerCase()}`,
        machine_id: machineId,
        name,
        location: 'westeurope',
        tags: '{}',
        publisher: 'Contoso',
        type: 'Widget',
        type_handler_version: '1.0',
        resolved_version: '1.0',
        auto_upgrade_minor_version: 1,
        enable_automatic_upgrade: 0,
        force_update_tag: null,
        settings: '{}',
        protected_settings: null,
        protected_key_id: null,
        sequence: 1,
        provisioning_state: 'Succeeded',
        instance_view: null,
        created_at: now,
        updated_at: now,
      })
      .execute();
  }

  /** Every page of a list, following nextLink. */
  async function listAll(url: string, as: string): Promise<{ items: Listed[]; pages: number }> {
    const items: Listed[] = [];
    let pages = 0;
    let next: string | undefined = url;
    while (next !== undefined) {
      const res = await t.inject('GET', next, { as });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      items.push(...(res.body['value'] as Listed[]));
      pages++;
      next = (res.body['nextLink'] as string | undefined)?.slice(PUBLIC_URL.length);
    }
    return { items, pages };
  }

  before(async () => {
    t = await ArmTestApp.start({ pageSize: 2 });
    sub = await t.addSubscription();
    owner = await t.addPrincipal();
    await t.assign(owner, OWNER_ROLE_ID, `/subscriptions/${sub}`);
    await t.addResourceGroup(sub, 'Web-EU');
    await t.addResourceGroup(sub, 'db');
    const web1 = await t.addMachine(sub, 'Web-EU', 'web1');
    await t.addMachine(sub, 'Web-EU', 'web2', 'eastus');
    await t.addMachine(sub, 'db', 'db1');
    await addExtension(web1, 'Monitor');
    await addExtension(web1, 'Agent');
    await t.db
      .updateTable('machines')
      .set({ tags: JSON.stringify({ Env: 'prod' }) })
      .where('id', '=', web1)
      .execute();
  });
  after(() => t.close());

  void it('lists every machine, each followed by its extensions, across pages', async () => {
    const { items, pages } = await listAll(`/subscriptions/${sub}/resources?${V}`, owner);
    assert.deepEqual(
      items.map((r) => r.name),
      ['db1', 'web1', 'web1/Agent', 'web1/Monitor', 'web2'],
    );
    assert.equal(pages, 3);
    const ext = items.find((r) => r.name === 'web1/Agent');
    assert.equal(
      ext?.id,
      `/subscriptions/${sub}/resourceGroups/Web-EU/providers/Microsoft.HybridCompute/machines/web1/extensions/Agent`,
    );
    assert.equal(ext?.type, 'Microsoft.HybridCompute/machines/extensions');
    assert.equal(ext?.createdTime, undefined, 'no expanded fields unless asked');
  });

  void it('lists one group, by path or by $filter, in any spelling', async () => {
    const byPath = await listAll(
      `/subscriptions/${sub}/resourceGroups/web-eu/resources?${V}`,
      owner,
    );
    const filter = encodeURIComponent("resourceGroup eq 'WEB-eu'");
    const byFilter = await listAll(`/subscriptions/${sub}/resources?${V}&$filter=${filter}`, owner);
    for (const { items } of [byPath, byFilter]) {
      assert.deepEqual(
        items.map((r) => r.name),
        ['web1', 'web1/Agent', 'web1/Monitor', 'web2'],
      );
    }
  });

  void it('filters by type, name, location and tag, and expands what is asked', async () => {
    const cases: [string, string[]][] = [
      ["resourceType eq 'microsoft.hybridcompute/machines'", ['db1', 'web1', 'web2']],
      [
        "resourceType eq 'Microsoft.HybridCompute/machines/extensions'",
        ['web1/Agent', 'web1/Monitor'],
      ],
      ["resourceType eq 'Microsoft.Compute/virtualMachines'", []],
      ["name eq 'WEB2'", ['web2']],
      ["location eq 'East US'", ['web2']],
      ["tagName eq 'env'", ['web1']],
      ["tagName eq 'env' and tagValue eq 'prod'", ['web1']],
      ["tagName eq 'env' and tagValue eq 'Prod'", []],
      ["resourceGroup eq 'db' and resourceType eq 'Microsoft.HybridCompute/machines'", ['db1']],
    ];
    for (const [filter, expected] of cases) {
      const { items } = await listAll(
        `/subscriptions/${sub}/resources?${V}&$filter=${encodeURIComponent(filter)}`,
        owner,
      );
      assert.deepEqual(
        items.map((r) => r.name),
        expected,
        filter,
      );
    }
    const expanded = await t.inject(
      'GET',
      `/subscriptions/${sub}/resources?${V}&$expand=createdTime,changedTime,provisioningState&$top=1`,
      { as: owner },
    );
    const first = (expanded.body['value'] as Listed[])[0];
    assert.equal(first?.provisioningState, 'Succeeded');
    assert.equal(first?.createdTime, new Date(t.clock.now()).toISOString());
    assert.equal((expanded.body['value'] as Listed[]).length, 1, '$top bounds the page');
    assert.match(String(expanded.body['nextLink']), /%24top=1/);
  });

  void it('refuses filters, expansions and sizes it does not support, by name', async () => {
    const cases: [string, RegExp][] = [
      [`$filter=${encodeURIComponent("substringof('web', name)")}`, /substringof.*not supported/],
      [`$filter=${encodeURIComponent("name eq 'a' and name eq 'b'")}`, /names 'name' twice/],
      [`$filter=${encodeURIComponent("tagValue eq 'prod'")}`, /tagValue without tagName/],
      ['$expand=secrets', /'secrets' is not supported/],
      ['$top=0', /\$top value '0'/],
      ['$skiptoken=bogus', /\$skiptoken/],
    ];
    for (const [query, message] of cases) {
      const res = await t.inject('GET', `/subscriptions/${sub}/resources?${V}&${query}`, {
        as: owner,
      });
      assert.equal(res.status, 400, query);
      const error = res.body['error'] as { code: string; message: string };
      assert.equal(error.code, 'BadRequest', query);
      assert.match(error.message, message, query);
    }
    const missing = await t.inject(
      'GET',
      `/subscriptions/${sub}/resourceGroups/nope/resources?${V}`,
      {
        as: owner,
      },
    );
    assert.equal(missing.status, 404);
  });

  void it('shows each caller only the resources it may read', async () => {
    const reader = await t.addPrincipal();
    await t.assign(reader, READER_ROLE_ID, `/subscriptions/${sub}/resourceGroups/db`);
    const denied = await t.inject('GET', `/subscriptions/${sub}/resources?${V}`, { as: reader });
    assert.equal(denied.status, 403);
    const own = await listAll(`/subscriptions/${sub}/resourceGroups/db/resources?${V}`, reader);
    assert.deepEqual(
      own.items.map((r) => r.name),
      ['db1'],
    );

    // Allowed to list the subscription, but to read one machine only.
    const lister = randomUUID();
    const now = new Date(t.clock.now()).toISOString();
    await new RoleDefinitionStore(t.db, t.authorizer).put(
      {
        name: lister,
        role_name: 'Resource lister',
        description: '',
        permissions: JSON.stringify([
          {
            actions: ['Microsoft.Resources/subscriptions/resources/read'],
            notActions: [],
            dataActions: [],
            notDataActions: [],
          },
        ]),
        assignable_scopes: JSON.stringify([`/subscriptions/${sub}`]),
        created_at: now,
        updated_at: now,
      },
      undefined,
    );
    const narrow = await t.addPrincipal();
    await t.assign(narrow, lister, `/subscriptions/${sub}`);
    await t.assign(
      narrow,
      READER_ROLE_ID,
      `/subscriptions/${sub}/resourceGroups/Web-EU/providers/Microsoft.HybridCompute/machines/web2`,
    );
    const seen = await listAll(`/subscriptions/${sub}/resources?${V}`, narrow);
    assert.deepEqual(
      seen.items.map((r) => r.name),
      ['web2'],
    );
  });
});
