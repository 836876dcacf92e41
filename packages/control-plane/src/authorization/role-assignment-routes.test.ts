// Behaviour of the role assignment routes: create at every depth, validation, duplicates,
// list semantics (at/above/below, atScope(), principalId, assignedTo()), paging and delete.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  CONNECTED_MACHINE_ONBOARDING_ROLE_ID,
  CONTRIBUTOR_ROLE_ID,
  OWNER_ROLE_ID,
  READER_ROLE_ID,
} from '../rbac/built-in-roles.js';
import { ArmTestApp, PUBLIC_URL, armTestBackends } from '../resources/testing/arm-test-app.js';

const V = 'api-version=2022-04-01';
const RA = 'providers/Microsoft.Authorization/roleAssignments';

function roleId(sub: string, role: string): string {
  return `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/${role}`;
}

function errorOf(body: Record<string, unknown>): {
  code: string;
  target?: string;
  message: string;
} {
  return body['error'] as { code: string; target?: string; message: string };
}

for (const backend of armTestBackends()) {
  void describe(`role assignment routes (${backend.name})`, () => {
    let t: ArmTestApp;
    let sub: string;
    let admin: string;
    let subScope: string;
    let rgScope: string;
    let machineId: string;

    before(async () => {
      t = await ArmTestApp.start({ backend, pageSize: 2 });
      sub = await t.addSubscription();
      subScope = `/subscriptions/${sub}`;
      rgScope = await t.addResourceGroup(sub, 'rg1');
      await t.addResourceGroup(sub, 'rg2');
      machineId = await t.addMachine(sub, 'rg1', 'm1');
      admin = await t.addPrincipal();
      await t.assign(admin, OWNER_ROLE_ID, '/');
    });
    after(() => t.close());

    async function put(
      scope: string,
      name: string,
      properties: Record<string, unknown>,
      as = admin,
    ) {
      return t.inject('PUT', `${scope === '/' ? '' : scope}/${RA}/${name}?${V}`, {
        as,
        body: { properties },
      });
    }

    void it('creates an assignment (201) at subscription, group, machine and tenant root, and it takes effect', async () => {
      for (const scope of [subScope, rgScope, machineId, '/']) {
        const who = await t.addPrincipal('User');
        const name = randomUUID();
        const roleDefinitionId =
          scope === '/'
            ? `/providers/Microsoft.Authorization/roleDefinitions/${READER_ROLE_ID}`
            : roleId(sub, READER_ROLE_ID);
        const res = await put(scope, name, { roleDefinitionId, principalId: who });
        assert.equal(res.status, 201, `${scope}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body['name'], name);
        assert.equal(res.body['type'], 'Microsoft.Authorization/roleAssignments');
        const properties = res.body['properties'] as Record<string, unknown>;
        assert.equal(properties['scope'], scope);
        assert.equal(properties['principalType'], 'User');
        assert.equal(properties['createdBy'], admin);
        assert.equal(
          properties['roleDefinitionId'],
          scope === '/'
            ? `/providers/Microsoft.Authorization/roleDefinitions/${READER_ROLE_ID}`
            : roleId(sub, READER_ROLE_ID),
        );
        assert.equal(res.body['id'], `${scope === '/' ? '' : scope}/${RA}/${name}`);
        const read = await t.inject('GET', `${machineId}?api-version=2021-05-20`, { as: who });
        assert.equal(read.status, 200, `${scope}: the grant reaches the machine below it`);
      }
    });

    void it("takes a service principal's appId for its object id, but no user's or group's", async () => {
      const sp = await t.addPrincipal();
      const row = await t.db
        .selectFrom('principals')
        .select('app_id')
        .where('id', '=', sp)
        .executeTakeFirstOrThrow();
      const appId = String(row.app_id);
      const res = await put(rgScope, randomUUID(), {
        roleDefinitionId: roleId(sub, READER_ROLE_ID),
        principalId: appId.toUpperCase(),
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const properties = res.body['properties'] as Record<string, unknown>;
      assert.equal(properties['principalId'], sp, 'stored and shown under the object id');
      assert.equal(properties['principalType'], 'ServicePrincipal');
      const read = await t.inject('GET', `${machineId}?api-version=2021-05-20`, { as: sp });
      assert.equal(read.status, 200, 'the grant reaches the principal itself');
      const unknown = await put(rgScope, randomUUID(), {
        roleDefinitionId: roleId(sub, READER_ROLE_ID),
        principalId: randomUUID(),
      });
      assert.equal(errorOf(unknown.body).code, 'PrincipalNotFound');
    });

    void it('accepts a tenant-level role definition id and a doubled leading slash', async () => {
      const who = await t.addPrincipal();
      const res = await t.inject('PUT', `/${subScope}/${RA}/${randomUUID()}?${V}`, {
        as: admin,
        body: {
          properties: {
            roleDefinitionId: `/providers/Microsoft.Authorization/roleDefinitions/${READER_ROLE_ID}`,
            principalId: who,
            principalType: 'ServicePrincipal',
          },
        },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
    });

    void it('refuses bad requests with specific codes and changes nothing', async () => {
      const who = await t.addPrincipal('User');
      const good = { roleDefinitionId: roleId(sub, READER_ROLE_ID), principalId: who };
      const cases: [string, string, string, Record<string, unknown>, number, string, string?][] = [
        [
          'unknown principal',
          subScope,
          randomUUID(),
          { ...good, principalId: randomUUID() },
          400,
          'PrincipalNotFound',
        ],
        [
          'unknown role',
          subScope,
          randomUUID(),
          { ...good, roleDefinitionId: roleId(sub, randomUUID()) },
          404,
          'RoleDefinitionDoesNotExist',
        ],
        [
          'role id in another subscription',
          subScope,
          randomUUID(),
          { ...good, roleDefinitionId: roleId(randomUUID(), READER_ROLE_ID) },
          400,
          'InvalidRequestContent',
          'properties.roleDefinitionId',
        ],
        [
          'malformed role id',
          subScope,
          randomUUID(),
          { ...good, roleDefinitionId: 'Reader' },
          400,
          'InvalidRequestContent',
          'properties.roleDefinitionId',
        ],
        [
          'principal id not a GUID',
          subScope,
          randomUUID(),
          { ...good, principalId: 'bob' },
          400,
          'InvalidRequestContent',
          'properties.principalId',
        ],
        [
          'wrong principalType',
          subScope,
          randomUUID(),
          { ...good, principalType: 'Group' },
          400,
          'InvalidRequestContent',
          'properties.principalType',
        ],
        [
          'conditions',
          subScope,
          randomUUID(),
          { ...good, condition: "@Resource[x] == 'y'" },
          400,
          'InvalidRequestContent',
          'properties.condition',
        ],
        [
          'unknown field',
          subScope,
          randomUUID(),
          { ...good, colour: 'red' },
          400,
          'InvalidRequestContent',
          'properties.colour',
        ],
        ['name not a GUID', subScope, 'not-a-guid', good, 400, 'BadRequest', 'roleAssignmentName'],
        [
          'missing resource group',
          `${subScope}/resourceGroups/ghost`,
          randomUUID(),
          good,
          404,
          'ResourceGroupNotFound',
        ],
        [
          'missing machine',
          `${rgScope}/providers/Microsoft.HybridCompute/machines/ghost`,
          randomUUID(),
          good,
          404,
          'ResourceNotFound',
        ],
      ];
      for (const [label, scope, name, properties, status, code, target] of cases) {
        const res = await put(scope, name, properties);
        assert.equal(res.status, status, `${label}: ${JSON.stringify(res.body)}`);
        assert.equal(errorOf(res.body).code, code, label);
        if (target !== undefined) assert.equal(errorOf(res.body).target, target, label);
      }
      const left = await t.db
        .selectFrom('role_assignments')
        .selectAll()
        .where('principal_id', '=', who)
        .execute();
      assert.equal(left.length, 0);
      const noBody = await t.inject('PUT', `${subScope}/${RA}/${randomUUID()}?${V}`, { as: admin });
      assert.equal(noBody.status, 400);
      const oldApi = await t.inject('GET', `${subScope}/${RA}?api-version=2014-01-01`, {
        as: admin,
      });
      assert.equal(errorOf(oldApi.body).code, 'InvalidApiVersionParameter');
    });

    void it('refuses a duplicate (409) but repeats an identical PUT idempotently', async () => {
      const who = await t.addPrincipal();
      const name = randomUUID();
      const properties = { roleDefinitionId: roleId(sub, CONTRIBUTOR_ROLE_ID), principalId: who };
      assert.equal((await put(rgScope, name, properties)).status, 201);
      const again = await put(rgScope, name, properties);
      assert.equal(again.status, 200);
      const duplicate = await put(rgScope, randomUUID(), properties);
      assert.equal(duplicate.status, 409);
      assert.equal(errorOf(duplicate.body).code, 'RoleAssignmentExists');
      assert.match(errorOf(duplicate.body).message, new RegExp(name));
      const changed = await put(rgScope, name, {
        ...properties,
        roleDefinitionId: roleId(sub, READER_ROLE_ID),
      });
      assert.equal(changed.status, 400);
      assert.equal(errorOf(changed.body).code, 'RoleAssignmentUpdateNotPermitted');
    });

    void it('lists at, above and below by default; atScope() only at and above; filters by principal', async () => {
      const who = await t.addPrincipal();
      const atSub = await t.assign(who, READER_ROLE_ID, subScope);
      const atGroup = await t.assign(who, CONNECTED_MACHINE_ONBOARDING_ROLE_ID, rgScope);
      const atMachine = await t.assign(who, CONTRIBUTOR_ROLE_ID, machineId);
      const names = async (url: string): Promise<string[]> => {
        const all: string[] = [];
        let next: string | undefined = url;
        while (next !== undefined) {
          const res = await t.inject('GET', next, { as: admin });
          assert.equal(res.status, 200, JSON.stringify(res.body));
          all.push(...(res.body['value'] as { name: string }[]).map((v) => v.name));
          next = (res.body['nextLink'] as string | undefined)?.slice(PUBLIC_URL.length);
        }
        return all.sort();
      };
      const filter = (f: string): string => `&$filter=${encodeURIComponent(f)}`;
      assert.deepEqual(
        await names(`${rgScope}/${RA}?${V}${filter(`principalId eq '${who}'`)}`),
        [atSub, atGroup, atMachine].sort(),
      );
      assert.deepEqual(
        await names(`${rgScope}/${RA}?${V}${filter(`atScope() and principalId eq '${who}'`)}`),
        [atSub, atGroup].sort(),
      );
      assert.deepEqual(
        await names(`${machineId}/${RA}?${V}${filter(`principalId eq '${who}'`)}`),
        [atSub, atGroup, atMachine].sort(),
      );
      assert.deepEqual(
        await names(
          `${subScope}/resourceGroups/rg2/${RA}?${V}${filter(`principalId eq '${who}'`)}`,
        ),
        [atSub],
      );
      const unfiltered = await names(`${rgScope}/${RA}?${V}`);
      for (const name of [atSub, atGroup, atMachine]) assert.ok(unfiltered.includes(name));
      const bad = await t.inject('GET', `${rgScope}/${RA}?${V}${filter("roleName eq 'x'")}`, {
        as: admin,
      });
      assert.equal(bad.status, 400);
      assert.equal(errorOf(bad.body).target, '$filter');
      assert.match(errorOf(bad.body).message, /roleName eq 'x'/);
    });

    void it('assignedTo() includes the groups the principal belongs to', async () => {
      const member = await t.addPrincipal('User');
      const group = await t.addPrincipal('Group');
      await t.db
        .insertInto('group_members')
        .values({ group_id: group, member_id: member })
        .execute();
      t.authorizer.setGroupMembers(group, [member]);
      const viaGroup = await t.assign(group, READER_ROLE_ID, rgScope);
      const own = await t.assign(member, CONNECTED_MACHINE_ONBOARDING_ROLE_ID, rgScope);
      const res = await t.inject(
        'GET',
        `${rgScope}/${RA}?${V}&$filter=${encodeURIComponent(`assignedTo('${member}')`)}`,
        {
          as: admin,
        },
      );
      const names = (res.body['value'] as { name: string }[]).map((v) => v.name).sort();
      assert.deepEqual(names, [viaGroup, own].sort());
    });

    void it('GET one answers 404 RoleAssignmentNotFound at another scope', async () => {
      const who = await t.addPrincipal();
      const name = await t.assign(who, READER_ROLE_ID, rgScope);
      assert.equal(
        (await t.inject('GET', `${rgScope}/${RA}/${name}?${V}`, { as: admin })).status,
        200,
      );
      const elsewhere = await t.inject('GET', `${subScope}/${RA}/${name}?${V}`, { as: admin });
      assert.equal(elsewhere.status, 404);
      assert.equal(errorOf(elsewhere.body).code, 'RoleAssignmentNotFound');
    });

    void it('DELETE returns the deleted assignment (200), revokes it at once, then 204', async () => {
      const who = await t.addPrincipal();
      const name = await t.assign(who, READER_ROLE_ID, rgScope);
      assert.equal(
        (await t.inject('GET', `${machineId}?api-version=2021-05-20`, { as: who })).status,
        200,
      );
      const del = await t.inject('DELETE', `${rgScope}/${RA}/${name}?${V}`, { as: admin });
      assert.equal(del.status, 200);
      assert.equal(del.body['name'], name);
      assert.equal(
        (await t.inject('GET', `${machineId}?api-version=2021-05-20`, { as: who })).status,
        403,
      );
      assert.equal(
        (await t.inject('DELETE', `${rgScope}/${RA}/${name}?${V}`, { as: admin })).status,
        204,
      );
    });

    void it('Contributor cannot grant access; User Access Administrator can', async () => {
      const contributor = await t.addPrincipal();
      await t.assign(contributor, CONTRIBUTOR_ROLE_ID, subScope);
      const target = await t.addPrincipal();
      const properties = { roleDefinitionId: roleId(sub, OWNER_ROLE_ID), principalId: target };
      const denied = await put(rgScope, randomUUID(), properties, contributor);
      assert.equal(denied.status, 403);
      assert.match(
        errorOf(denied.body).message,
        /Microsoft\.Authorization\/roleAssignments\/write/,
      );
      const uaa = await t.addPrincipal();
      await t.assign(uaa, '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9', subScope);
      assert.equal((await put(rgScope, randomUUID(), properties, uaa)).status, 201);
    });
  });
}
