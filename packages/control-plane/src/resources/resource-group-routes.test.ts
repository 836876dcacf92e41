// Behaviour of subscriptions and resource groups: visibility, create/update, location rules,
// paging, and a group delete that takes its machines and their grants along.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CONNECTED_MACHINE_RESOURCE_ADMINISTRATOR_ROLE_ID,
  OWNER_ROLE_ID,
  READER_ROLE_ID,
} from '../rbac/built-in-roles.js';
import { ArmTestApp, PUBLIC_URL, TEST_TENANT, armTestBackends } from './testing/arm-test-app.js';

const V = 'api-version=2021-04-01';

function errorOf(body: Record<string, unknown>): { code: string; target?: string } {
  return body['error'] as { code: string; target?: string };
}

for (const backend of armTestBackends()) {
  void describe(`subscription and resource group routes (${backend.name})`, () => {
    let t: ArmTestApp;
    let sub: string;
    let hidden: string;
    let owner: string;

    before(async () => {
      t = await ArmTestApp.start({ backend, pageSize: 2 });
      sub = await t.addSubscription();
      hidden = await t.addSubscription();
      owner = await t.addPrincipal();
      await t.assign(owner, OWNER_ROLE_ID, `/subscriptions/${sub}`);
    });
    after(() => t.close());

    void it('lists only the subscriptions the caller may read', async () => {
      const res = await t.inject('GET', `/subscriptions?api-version=2022-12-01`, { as: owner });
      assert.equal(res.status, 200);
      const value = res.body['value'] as {
        subscriptionId: string;
        tenantId: string;
        state: string;
      }[];
      assert.deepEqual(
        value.map((s) => s.subscriptionId),
        [sub],
      );
      assert.equal(value[0]?.tenantId, TEST_TENANT);
      assert.equal(value[0]?.state, 'Enabled');
      const denied = await t.inject('GET', `/subscriptions/${hidden}?api-version=2022-12-01`, {
        as: owner,
      });
      assert.equal(denied.status, 403);
    });

    void it('creates a group (201), updates its tags (200) and refuses a move', async () => {
      const url = `/subscriptions/${sub}/resourcegroups/Prod-EU?${V}`;
      const created = await t.inject('PUT', url, {
        as: owner,
        body: { location: 'westeurope', tags: { a: 'b' } },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body['id'], `/subscriptions/${sub}/resourceGroups/Prod-EU`);
      assert.equal(created.body['type'], 'Microsoft.Resources/resourceGroups');
      const updated = await t.inject('PUT', url, {
        as: owner,
        body: { location: 'West Europe', tags: { c: 'd' } },
      });
      assert.equal(updated.status, 200);
      assert.deepEqual(updated.body['tags'], { c: 'd' });
      const moved = await t.inject('PUT', url, { as: owner, body: { location: 'eastus' } });
      assert.equal(moved.status, 409);
      assert.equal(errorOf(moved.body).code, 'InvalidResourceGroupLocation');
    });

    void it('refuses bad names, bodies and missing subscriptions by name', async () => {
      const badName = await t.inject(
        'PUT',
        `/subscriptions/${sub}/resourcegroups/ends-with-dot.?${V}`,
        {
          as: owner,
          body: { location: 'westeurope' },
        },
      );
      assert.equal(errorOf(badName.body).code, 'InvalidResourceName');
      const badField = await t.inject('PUT', `/subscriptions/${sub}/resourcegroups/ok?${V}`, {
        as: owner,
        body: { location: 'westeurope', colour: 'red' },
      });
      assert.equal(errorOf(badField.body).target, 'colour');
      const noLocation = await t.inject('PUT', `/subscriptions/${sub}/resourcegroups/ok?${V}`, {
        as: owner,
        body: {},
      });
      assert.equal(errorOf(noLocation.body).target, 'location');
      const ghost = '00000000-0000-0000-0000-0000000000aa';
      await t.assign(owner, OWNER_ROLE_ID, `/subscriptions/${ghost}`);
      const noSub = await t.inject('PUT', `/subscriptions/${ghost}/resourcegroups/ok?${V}`, {
        as: owner,
        body: { location: 'westeurope' },
      });
      assert.equal(noSub.status, 404);
      assert.equal(errorOf(noSub.body).code, 'SubscriptionNotFound');
      const notGuid = await t.inject('GET', `/subscriptions/not-a-guid/resourcegroups?${V}`, {
        as: owner,
      });
      assert.equal(notGuid.status, 400);
      const rows = await t.db.selectFrom('resource_groups').select('name').execute();
      assert.deepEqual(
        rows.map((r) => r.name),
        ['Prod-EU'],
      );
    });

    void it('answers HEAD on a group with 204 when it exists and 404 when not', async () => {
      await t.addResourceGroup(sub, 'Head-Probe');
      const found = await t.inject('HEAD', `/subscriptions/${sub}/resourceGroups/head-probe?${V}`, {
        as: owner,
      });
      assert.equal(found.status, 204);
      const missing = await t.inject('HEAD', `/subscriptions/${sub}/resourceGroups/absent?${V}`, {
        as: owner,
      });
      assert.equal(missing.status, 404);
      const stranger = await t.addPrincipal();
      const denied = await t.inject(
        'HEAD',
        `/subscriptions/${sub}/resourceGroups/head-probe?${V}`,
        {
          as: stranger,
        },
      );
      assert.equal(denied.status, 403, 'existence is not told to a caller who may not read it');
      await t.inject('DELETE', `/subscriptions/${sub}/resourceGroups/head-probe?${V}`, {
        as: owner,
      });
    });

    void it('filters the list by tag, refusing any other filter', async () => {
      for (const [name, tags] of [
        ['tag-a', { Env: 'prod' }],
        ['tag-b', { env: 'test' }],
        ['tag-c', {}],
      ] as const) {
        const res = await t.inject('PUT', `/subscriptions/${sub}/resourceGroups/${name}?${V}`, {
          as: owner,
          body: { location: 'westeurope', tags },
        });
        assert.equal(res.status, 201, JSON.stringify(res.body));
      }
      const names = async (filter: string) => {
        const res = await t.inject(
          'GET',
          `/subscriptions/${sub}/resourcegroups?${V}&$filter=${encodeURIComponent(filter)}`,
          { as: owner },
        );
        assert.equal(res.status, 200, JSON.stringify(res.body));
        return (res.body['value'] as { name: string }[]).map((g) => g.name);
      };
      assert.deepEqual(await names("tagName eq 'ENV'"), ['tag-a', 'tag-b']);
      assert.deepEqual(await names("tagName eq 'env' and tagValue eq 'prod'"), ['tag-a']);
      const refused = await t.inject(
        'GET',
        `/subscriptions/${sub}/resourcegroups?${V}&$filter=${encodeURIComponent("location eq 'westeurope'")}`,
        { as: owner },
      );
      assert.equal(refused.status, 400);
      assert.match(errorOf(refused.body).target ?? '', /\$filter/);
      for (const name of ['tag-a', 'tag-b', 'tag-c']) {
        await t.inject('DELETE', `/subscriptions/${sub}/resourceGroups/${name}?${V}`, {
          as: owner,
        });
      }
    });

    void it('pages the list of groups', async () => {
      for (const name of ['g1', 'g2']) await t.addResourceGroup(sub, name);
      const names: string[] = [];
      let url: string | undefined = `/subscriptions/${sub}/resourcegroups?${V}`;
      while (url !== undefined) {
        const res = await t.inject('GET', url, { as: owner });
        names.push(...(res.body['value'] as { name: string }[]).map((g) => g.name));
        url = (res.body['nextLink'] as string | undefined)?.slice(PUBLIC_URL.length);
      }
      assert.deepEqual(names, ['g1', 'g2', 'Prod-EU']);
    });

    void it('Resource Administrator cannot create, change or delete resource groups (S4)', async () => {
      const admin = await t.addPrincipal();
      await t.assign(
        admin,
        CONNECTED_MACHINE_RESOURCE_ADMINISTRATOR_ROLE_ID,
        `/subscriptions/${sub}`,
      );
      for (const [method, body] of [
        ['PUT', { location: 'westeurope' }],
        ['DELETE', undefined],
      ] as const) {
        const res = await t.inject(method, `/subscriptions/${sub}/resourcegroups/g1?${V}`, {
          as: admin,
          ...(body === undefined ? {} : { body }),
        });
        assert.equal(res.status, 403, method);
      }
    });

    void it('deleting a group deletes its machines and the grants inside it', async () => {
      const groupId = await t.addResourceGroup(sub, 'doomed');
      await t.addMachine(sub, 'doomed', 'm1');
      await t.addMachine(sub, 'doomed', 'm2');
      const keep = await t.addMachine(sub, 'g1', 'm1');
      const reader = await t.addPrincipal();
      await t.assign(reader, READER_ROLE_ID, groupId);
      const del = await t.inject('DELETE', `/subscriptions/${sub}/resourcegroups/doomed?${V}`, {
        as: owner,
      });
      assert.equal(del.status, 200);
      const machines = await t.db.selectFrom('machines').select('id').execute();
      assert.deepEqual(
        machines.map((m) => m.id),
        [keep],
      );
      assert.equal(
        t.authorizer.isAllowed(reader, 'Microsoft.HybridCompute/machines/read', groupId),
        false,
      );
      const again = await t.inject('DELETE', `/subscriptions/${sub}/resourcegroups/doomed?${V}`, {
        as: owner,
      });
      assert.equal(errorOf(again.body).code, 'ResourceGroupNotFound');
    });
  });
}
