// Behaviour of the role definition routes: built-ins listed with their Azure ids and never
// changed, custom roles validated, enforced, renamed only to a free name, deleted only unused.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { BUILT_IN_ROLES, OWNER_ROLE_ID, READER_ROLE_ID } from '../rbac/built-in-roles.js';
import { ArmTestApp, armTestBackends } from '../resources/testing/arm-test-app.js';

const V = 'api-version=2022-04-01';
const RD = 'providers/Microsoft.Authorization/roleDefinitions';

function errorOf(body: Record<string, unknown>): {
  code: string;
  target?: string;
  message: string;
} {
  return body['error'] as { code: string; target?: string; message: string };
}

interface Definition {
  id: string;
  name: string;
  properties: { roleName: string; type: string; assignableScopes: string[] };
}

for (const backend of armTestBackends()) {
  void describe(`role definition routes (${backend.name})`, () => {
    let t: ArmTestApp;
    let sub: string;
    let subScope: string;
    let rgScope: string;
    let owner: string;

    before(async () => {
      t = await ArmTestApp.start({ backend });
      sub = await t.addSubscription();
      subScope = `/subscriptions/${sub}`;
      rgScope = await t.addResourceGroup(sub, 'rg1');
      await t.addMachine(sub, 'rg1', 'm1');
      owner = await t.addPrincipal();
      await t.assign(owner, OWNER_ROLE_ID, subScope);
    });
    after(() => t.close());

    const machineReader = (scopes: string[]) => ({
      properties: {
        roleName: 'Machine Reader',
        description: 'Reads machines',
        type: 'CustomRole',
        permissions: [{ actions: ['Microsoft.HybridCompute/machines/read'], notActions: [] }],
        assignableScopes: scopes,
      },
    });

    void it('lists the built-in roles with their Azure ids and filters by roleName', async () => {
      const res = await t.inject('GET', `${subScope}/${RD}?${V}`, { as: owner });
      assert.equal(res.status, 200);
      const value = res.body['value'] as Definition[];
      for (const role of BUILT_IN_ROLES) {
        const found = value.find((d) => d.name === role.name);
        assert.ok(found, role.roleName);
        assert.equal(found.id, `${subScope}/${RD}/${role.name}`);
        assert.equal(found.properties.roleName, role.roleName);
        assert.equal(found.properties.type, 'BuiltInRole');
      }
      const filtered = await t.inject(
        'GET',
        `${subScope}/${RD}?${V}&$filter=${encodeURIComponent("roleName eq 'Azure Connected Machine Onboarding'")}`,
        { as: owner },
      );
      assert.deepEqual(
        (filtered.body['value'] as Definition[]).map((d) => d.name),
        ['b64e21ea-ac4e-4cdf-9dc9-5b892992bee7'],
      );
    });

    void it('creates a custom role (201), which then grants exactly its actions', async () => {
      const name = randomUUID();
      const res = await t.inject('PUT', `${subScope}/${RD}/${name}?${V}`, {
        as: owner,
        body: machineReader([rgScope]),
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal((res.body['properties'] as Definition['properties']).type, 'CustomRole');
      const who = await t.addPrincipal();
      await t.assign(who, name, rgScope);
      const machine = `${rgScope}/providers/Microsoft.HybridCompute/machines/m1`;
      assert.equal(
        (await t.inject('GET', `${machine}?api-version=2021-05-20`, { as: who })).status,
        200,
      );
      assert.equal(
        (await t.inject('DELETE', `${machine}?api-version=2021-05-20`, { as: who })).status,
        403,
      );
      const got = await t.inject('GET', `${subScope}/${RD}/${name}?${V}`, { as: owner });
      assert.equal(got.status, 200);
      assert.equal((got.body['properties'] as Definition['properties']).roleName, 'Machine Reader');
      const atGroup = await t.inject(
        'GET',
        `${rgScope}/${RD}?${V}&$filter=${encodeURIComponent("type eq 'CustomRole'")}`,
        {
          as: owner,
        },
      );
      assert.deepEqual(
        (atGroup.body['value'] as Definition[]).map((d) => d.name),
        [name],
      );
      const atSub = await t.inject(
        'GET',
        `${subScope}/${RD}?${V}&$filter=${encodeURIComponent("type eq 'CustomRole'")}`,
        {
          as: owner,
        },
      );
      assert.deepEqual(
        atSub.body['value'],
        [],
        'a role assignable only in rg1 is not offered at the subscription',
      );

      const busy = await t.inject('DELETE', `${subScope}/${RD}/${name}?${V}`, { as: owner });
      assert.equal(busy.status, 409);
      assert.equal(errorOf(busy.body).code, 'RoleDefinitionHasAssignments');
      const shrink = await t.inject('PUT', `${subScope}/${RD}/${name}?${V}`, {
        as: owner,
        body: machineReader([
          `${subScope}/resourceGroups/rg1/providers/Microsoft.HybridCompute/machines/m1`,
        ]),
      });
      assert.equal(
        shrink.status,
        409,
        'assignable scopes cannot drop a scope the role is assigned at',
      );
    });

    void it('refuses changing or deleting a built-in role', async () => {
      for (const method of ['PUT', 'DELETE']) {
        const res = await t.inject(method, `${subScope}/${RD}/${READER_ROLE_ID}?${V}`, {
          as: owner,
          ...(method === 'PUT' ? { body: machineReader([subScope]) } : {}),
        });
        assert.equal(res.status, 400, method);
        assert.match(errorOf(res.body).message, /built-in/);
      }
    });

    void it('refuses bad custom roles by field', async () => {
      const base = machineReader([subScope]).properties;
      const cases: [string, unknown, string][] = [
        ['no roleName', { ...base, roleName: '' }, 'properties.roleName'],
        ['taken name', { ...base, roleName: 'Owner' }, 'properties.roleName'],
        ['BuiltInRole type', { ...base, type: 'BuiltInRole' }, 'properties.type'],
        ['no permissions', { ...base, permissions: [] }, 'properties.permissions'],
        [
          'action with a space',
          { ...base, permissions: [{ actions: ['Microsoft.X/ read'] }] },
          'properties.permissions[0].actions[0]',
        ],
        [
          'unknown permission field',
          { ...base, permissions: [{ actions: ['*/read'], verbs: [] }] },
          'properties.permissions[0].verbs',
        ],
        ['no scopes', { ...base, assignableScopes: [] }, 'properties.assignableScopes'],
        ['bad scope', { ...base, assignableScopes: ['subscriptions'] }, 'scope'],
        [
          'ghost group',
          { ...base, assignableScopes: [`${subScope}/resourceGroups/ghost`] },
          'resourceGroupName',
        ],
      ];
      for (const [label, properties, target] of cases) {
        const res = await t.inject('PUT', `${subScope}/${RD}/${randomUUID()}?${V}`, {
          as: owner,
          body: { properties },
        });
        assert.ok(res.status >= 400 && res.status < 500, label);
        assert.equal(errorOf(res.body).target, target, `${label}: ${JSON.stringify(res.body)}`);
      }
      const notGuid = await t.inject('PUT', `${subScope}/${RD}/machine-reader?${V}`, {
        as: owner,
        body: machineReader([subScope]),
      });
      assert.equal(notGuid.status, 400);
      assert.equal(errorOf(notGuid.body).target, 'roleDefinitionId');
      assert.equal((await t.db.selectFrom('role_definitions').selectAll().execute()).length, 1);
    });

    void it('needs write access at every assignable scope', async () => {
      const other = await t.addSubscription();
      const res = await t.inject('PUT', `${subScope}/${RD}/${randomUUID()}?${V}`, {
        as: owner,
        body: {
          properties: {
            ...machineReader([]).properties,
            roleName: 'Wide',
            assignableScopes: [subScope, `/subscriptions/${other}`],
          },
        },
      });
      assert.equal(res.status, 403);
      assert.match(errorOf(res.body).message, new RegExp(`/subscriptions/${other}`));
    });

    void it('deletes an unused custom role (200), then answers 204', async () => {
      const name = randomUUID();
      const body = {
        properties: { ...machineReader([subScope]).properties, roleName: 'Short-lived' },
      };
      assert.equal(
        (await t.inject('PUT', `${subScope}/${RD}/${name}?${V}`, { as: owner, body })).status,
        201,
      );
      const del = await t.inject('DELETE', `${subScope}/${RD}/${name}?${V}`, { as: owner });
      assert.equal(del.status, 200);
      assert.equal(del.body['name'], name);
      assert.equal(t.authorizer.getRoleDefinition(name), undefined);
      assert.equal(
        (await t.inject('DELETE', `${subScope}/${RD}/${name}?${V}`, { as: owner })).status,
        204,
      );
      const gone = await t.inject('GET', `${subScope}/${RD}/${name}?${V}`, { as: owner });
      assert.equal(errorOf(gone.body).code, 'RoleDefinitionDoesNotExist');
    });
  });
}
