// Behaviour of the machine routes: shape, paging, PUT/PATCH/DELETE, validation and the
// Onboarding role's limits, against the real routes, engine and database.
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  CONNECTED_MACHINE_ONBOARDING_ROLE_ID,
  CONNECTED_MACHINE_RESOURCE_ADMINISTRATOR_ROLE_ID,
  OWNER_ROLE_ID,
  READER_ROLE_ID,
} from '../rbac/built-in-roles.js';
import { ArmTestApp, PUBLIC_URL, TEST_TENANT, armTestBackends } from './testing/arm-test-app.js';

const V = 'api-version=2021-05-20';

/** A machine key as `azcmagent connect` sends it: base64 DER SPKI of a P-256 key. */
function machineKey(): string {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
}
const FIRST_KEY = machineKey();
const ATTACKER_KEY = machineKey();
const ROTATED_KEY = machineKey();

for (const backend of armTestBackends()) {
  void describe(`machine routes (${backend.name})`, () => {
    let t: ArmTestApp;
    let sub: string;
    let owner: string;
    let onboarding: string;
    const group = (rg: string): string => `/subscriptions/${sub}/resourceGroups/${rg}`;
    const machines = (rg: string): string =>
      `${group(rg)}/providers/Microsoft.HybridCompute/machines`;

    before(async () => {
      t = await ArmTestApp.start({ backend, pageSize: 2 });
      sub = await t.addSubscription();
      await t.addResourceGroup(sub, 'Fleet');
      await t.addResourceGroup(sub, 'other');
      owner = await t.addPrincipal();
      await t.assign(owner, OWNER_ROLE_ID, `/subscriptions/${sub}`);
      onboarding = await t.addPrincipal();
      await t.assign(
        onboarding,
        CONNECTED_MACHINE_ONBOARDING_ROLE_ID,
        `/subscriptions/${sub}/resourcegroups/fleet`,
      );
    });
    after(() => t.close());

    void it('creates a machine with PUT (201) and reads it back in the ARM shape', async () => {
      const put = await t.inject('PUT', `${machines('Fleet')}/web-01?${V}`, {
        as: owner,
        body: {
          location: 'West Europe',
          tags: { env: 'prod' },
          identity: { type: 'SystemAssigned' },
          properties: {
            osName: 'ubuntu',
            osType: 'linux',
            clientPublicKey: FIRST_KEY,
            agentVersion: '1.40',
          },
        },
      });
      assert.equal(put.status, 201, JSON.stringify(put.body));
      const got = await t.inject('GET', `${machines('fleet')}/WEB-01?${V}`, { as: owner });
      assert.equal(got.status, 200);
      assert.equal(
        got.body['id'],
        `/subscriptions/${sub}/resourceGroups/Fleet/providers/Microsoft.HybridCompute/machines/web-01`,
      );
      assert.equal(got.body['name'], 'web-01');
      assert.equal(got.body['type'], 'Microsoft.HybridCompute/machines');
      assert.equal(got.body['location'], 'westeurope');
      assert.deepEqual(got.body['tags'], { env: 'prod' });
      const properties = got.body['properties'] as Record<string, unknown>;
      assert.equal(properties['osName'], 'ubuntu');
      assert.equal(properties['clientPublicKey'], FIRST_KEY);
      assert.equal(properties['provisioningState'], 'Succeeded');
      assert.equal(properties['status'], 'Disconnected');
      assert.match(String(properties['vmId']), /^[0-9a-f-]{36}$/);
      assert.equal(
        properties['agentConfiguration'],
        undefined,
        'nothing is claimed before the agent reports',
      );
    });

    void it('accepts the current api-version and refuses an unknown one by name', async () => {
      const current = await t.inject('GET', `${machines('Fleet')}/web-01?api-version=2024-07-10`, {
        as: owner,
      });
      assert.equal(current.status, 200);
      const unknown = await t.inject('GET', `${machines('Fleet')}/web-01?api-version=1999-01-01`, {
        as: owner,
      });
      assert.equal(unknown.status, 400);
      assert.equal((unknown.body['error'] as { code: string }).code, 'InvalidApiVersionParameter');
    });

    void it('lists by resource group and by subscription with nextLink paging', async () => {
      for (const name of ['a-1', 'a-2', 'a-3']) await t.addMachine(sub, 'other', name);
      const seen: string[] = [];
      let url: string | undefined = `${machines('other')}?${V}`;
      let pages = 0;
      while (url !== undefined) {
        const page = await t.inject('GET', url, { as: owner });
        assert.equal(page.status, 200, JSON.stringify(page.body));
        const value = page.body['value'] as { name: string }[];
        assert.ok(value.length <= 2);
        seen.push(...value.map((m) => m.name));
        const next = page.body['nextLink'] as string | undefined;
        if (next !== undefined) {
          assert.ok(next.startsWith(PUBLIC_URL), next);
          assert.match(next, /api-version=2021-05-20/);
          assert.match(next, /%24skiptoken=|\$skiptoken=/);
        }
        url = next?.slice(PUBLIC_URL.length);
        pages++;
      }
      assert.deepEqual(seen, ['a-1', 'a-2', 'a-3']);
      assert.equal(pages, 2);
      const all: string[] = [];
      url = `/subscriptions/${sub}/providers/Microsoft.HybridCompute/machines?${V}`;
      while (url !== undefined) {
        const page = await t.inject('GET', url, { as: owner });
        all.push(...(page.body['value'] as { name: string }[]).map((m) => m.name));
        url = (page.body['nextLink'] as string | undefined)?.slice(PUBLIC_URL.length);
      }
      assert.deepEqual(all.sort(), ['a-1', 'a-2', 'a-3', 'web-01']);
    });

    void it('refuses a forged $skiptoken with a clear error', async () => {
      const res = await t.inject('GET', `${machines('other')}?${V}&$skiptoken=nonsense`, {
        as: owner,
      });
      assert.equal(res.status, 400);
      assert.equal((res.body['error'] as { target: string }).target, '$skiptoken');
    });

    void it('PATCH replaces tags and nothing else; other fields are refused by name', async () => {
      const res = await t.inject('PATCH', `${machines('Fleet')}/web-01?${V}`, {
        as: owner,
        body: { tags: { env: 'test' } },
      });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body['tags'], { env: 'test' });
      assert.equal((res.body['properties'] as Record<string, unknown>)['osName'], 'ubuntu');
      const bad = await t.inject('PATCH', `${machines('Fleet')}/web-01?${V}`, {
        as: owner,
        body: { properties: { osName: 'windows' } },
      });
      assert.equal(bad.status, 400);
      assert.equal((bad.body['error'] as { target: string }).target, 'properties.osName');
    });

    void it('a GET after any change, through the API or not, shows the change', async () => {
      const url = `${machines('Fleet')}/web-01?${V}`;
      const first = await t.inject('GET', url, { as: owner });
      assert.equal(first.headers['content-type'], 'application/json; charset=utf-8');
      await t.inject('PATCH', url, { as: owner, body: { tags: { step: 'two' } } });
      const second = await t.inject('GET', url, { as: owner });
      assert.deepEqual(second.body['tags'], { step: 'two' });
      // A change made to the stored row by another process.
      const id = `/subscriptions/${sub}/resourcegroups/fleet/providers/microsoft.hybridcompute/machines/web-01`;
      const row = await t.db
        .selectFrom('machines')
        .select('properties')
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      const reported = { ...(JSON.parse(row.properties) as object), osVersion: '24.04' };
      await t.db
        .updateTable('machines')
        .set({ properties: JSON.stringify(reported) })
        .where('id', '=', id)
        .execute();
      const third = await t.inject('GET', url, { as: owner });
      assert.equal((third.body['properties'] as Record<string, unknown>)['osVersion'], '24.04');
      assert.deepEqual(third.body['tags'], { step: 'two' });
    });

    void it('never lets the API write agentConfiguration (S7)', async () => {
      const res = await t.inject('PUT', `${machines('Fleet')}/web-01?${V}`, {
        as: owner,
        body: {
          location: 'westeurope',
          properties: { agentConfiguration: { extensionsAllowList: [] } },
        },
      });
      assert.equal(res.status, 400);
      const error = res.body['error'] as { code: string; target: string; message: string };
      assert.equal(error.code, 'InvalidRequestContent');
      assert.equal(error.target, 'properties.agentConfiguration');
      assert.match(error.message, /azcmagent config/);
    });

    void it('answers bad input with the field at fault and changes nothing', async () => {
      const cases: [string, unknown, string][] = [
        ['no location', { tags: {} }, 'location'],
        ['unknown top-level field', { location: 'westeurope', sku: 'x' }, 'sku'],
        [
          'unknown property',
          { location: 'westeurope', properties: { colour: 'red' } },
          'properties.colour',
        ],
        [
          'read-only status',
          { location: 'westeurope', properties: { status: 'Connected' } },
          'properties.status',
        ],
        ['tag value not a string', { location: 'westeurope', tags: { a: 1 } }, 'tags.a'],
        [
          'vmId not a GUID',
          { location: 'westeurope', properties: { vmId: 'x' } },
          'properties.vmId',
        ],
        [
          'identity type',
          { location: 'westeurope', identity: { type: 'UserAssigned' } },
          'identity.type',
        ],
      ];
      for (const [label, body, target] of cases) {
        const res = await t.inject('PUT', `${machines('Fleet')}/new-one?${V}`, { as: owner, body });
        assert.equal(res.status, 400, label);
        assert.equal((res.body['error'] as { target: string }).target, target, label);
      }
      const malformed = await t.inject('PUT', `${machines('Fleet')}/new-one?${V}`, {
        as: owner,
        rawBody: { payload: '{"location": ', contentType: 'application/json' },
      });
      assert.equal(malformed.status, 400);
      assert.equal((malformed.body['error'] as { code: string }).code, 'InvalidRequestContent');
      const missing = await t.inject('GET', `${machines('Fleet')}/new-one?${V}`, { as: owner });
      assert.equal(missing.status, 404);
      assert.equal((missing.body['error'] as { code: string }).code, 'ResourceNotFound');
    });

    void it('refuses machine names Azure refuses', async () => {
      for (const name of ['-lead', 'trail-', 'dot.', 'a'.repeat(55), 'sp%20ace', 'semi;colon']) {
        const res = await t.inject('PUT', `${machines('Fleet')}/${name}?${V}`, {
          as: owner,
          body: { location: 'westeurope' },
        });
        assert.equal(res.status, 400, name);
        assert.equal((res.body['error'] as { code: string }).code, 'InvalidResourceName', name);
      }
    });

    void it('names the missing resource group or subscription', async () => {
      const noGroup = await t.inject('PUT', `${machines('nowhere')}/m1?${V}`, {
        as: owner,
        body: { location: 'westeurope' },
      });
      assert.equal(noGroup.status, 404);
      assert.equal((noGroup.body['error'] as { code: string }).code, 'ResourceGroupNotFound');
      const ghost = '00000000-0000-0000-0000-00000000dead';
      await t.assign(owner, OWNER_ROLE_ID, `/subscriptions/${ghost}`);
      const noSub = await t.inject(
        'GET',
        `/subscriptions/${ghost}/providers/Microsoft.HybridCompute/machines?${V}`,
        { as: owner },
      );
      assert.equal(noSub.status, 404);
      assert.equal((noSub.body['error'] as { code: string }).code, 'SubscriptionNotFound');
    });

    void it('keeps location fixed on overwrite', async () => {
      const res = await t.inject('PUT', `${machines('Fleet')}/web-01?${V}`, {
        as: owner,
        body: { location: 'eastus' },
      });
      assert.equal(res.status, 409);
      assert.equal((res.body['error'] as { code: string }).code, 'InvalidResourceLocation');
    });

    void describe('Onboarding role (S3)', () => {
      void it('can create and read a machine', async () => {
        const put = await t.inject('PUT', `${machines('Fleet')}/onboarded?${V}`, {
          as: onboarding,
          body: { location: 'westeurope', properties: { osName: 'rhel' } },
        });
        assert.equal(put.status, 201, JSON.stringify(put.body));
        const got = await t.inject('GET', `${machines('Fleet')}/onboarded?${V}`, {
          as: onboarding,
        });
        assert.equal(got.status, 200);
      });

      void it('cannot overwrite an existing machine, and the denial is logged', async () => {
        const res = await t.inject('PUT', `${machines('Fleet')}/web-01?${V}`, {
          as: onboarding,
          body: { location: 'westeurope', properties: { clientPublicKey: ATTACKER_KEY } },
          headers: { 'x-ms-correlation-request-id': '11111111-2222-3333-4444-555555555555' },
        });
        assert.equal(res.status, 403);
        const error = res.body['error'] as { code: string; message: string };
        assert.equal(error.code, 'AuthorizationFailed');
        assert.match(error.message, /Microsoft\.HybridCompute\/machines\/delete/);
        assert.match(error.message, new RegExp(onboarding));
        const kept = await t.inject('GET', `${machines('Fleet')}/web-01?${V}`, { as: owner });
        assert.equal(
          (kept.body['properties'] as Record<string, unknown>)['clientPublicKey'],
          FIRST_KEY,
        );
        const events = await t.db
          .selectFrom('activity_log')
          .selectAll()
          .where('correlation_id', '=', '11111111-2222-3333-4444-555555555555')
          .execute();
        assert.equal(events.length, 1);
        assert.equal(events[0]?.status, 'Failed');
        assert.equal(events[0]?.sub_status, 'AuthorizationFailed');
        assert.equal(events[0]?.operation_name, 'Microsoft.HybridCompute/machines/delete');
      });

      void it('cannot delete a machine', async () => {
        const res = await t.inject('DELETE', `${machines('Fleet')}/onboarded?${V}`, {
          as: onboarding,
        });
        assert.equal(res.status, 403);
      });
    });

    void it('Resource Administrator may re-onboard (overwrite) a machine', async () => {
      const admin = await t.addPrincipal();
      await t.assign(
        admin,
        CONNECTED_MACHINE_RESOURCE_ADMINISTRATOR_ROLE_ID,
        `/subscriptions/${sub}/resourcegroups/fleet`,
      );
      const res = await t.inject('PUT', `${machines('Fleet')}/onboarded?${V}`, {
        as: admin,
        body: {
          location: 'westeurope',
          tags: { owner: 'ops' },
          properties: { clientPublicKey: ROTATED_KEY },
        },
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const properties = res.body['properties'] as Record<string, unknown>;
      assert.equal(properties['clientPublicKey'], ROTATED_KEY);
      assert.equal(properties['osName'], 'rhel', 'properties the body leaves out stay');
    });

    void it('DELETE removes the machine and the role assignments made on it; a second DELETE is 204', async () => {
      const id = await t.addMachine(sub, 'Fleet', 'doomed');
      const reader = await t.addPrincipal();
      await t.assign(reader, READER_ROLE_ID, id);
      assert.equal(
        (await t.inject('GET', `${machines('Fleet')}/doomed?${V}`, { as: reader })).status,
        200,
      );
      const del = await t.inject('DELETE', `${machines('Fleet')}/doomed?${V}`, { as: owner });
      assert.equal(del.status, 200);
      assert.equal(
        (await t.inject('DELETE', `${machines('Fleet')}/doomed?${V}`, { as: owner })).status,
        204,
      );
      const left = await t.db
        .selectFrom('role_assignments')
        .selectAll()
        .where('principal_id', '=', reader)
        .execute();
      assert.equal(left.length, 0);
      // A machine created again under the name does not inherit the old grant.
      await t.addMachine(sub, 'Fleet', 'doomed');
      assert.equal(
        (await t.inject('GET', `${machines('Fleet')}/doomed?${V}`, { as: reader })).status,
        403,
      );
    });

    void it("shows the machine's system-assigned identity in GET and in lists", async () => {
      const id = await t.addMachine(sub, 'Fleet', 'with-identity');
      const identity = randomUUID();
      await t.db
        .insertInto('principals')
        .values({
          id: identity,
          type: 'ServicePrincipal',
          display_name: 'with-identity',
          app_id: randomUUID(),
          user_principal_name: null,
          machine_id: id,
          created_at: new Date(t.clock.now()).toISOString(),
        })
        .execute();
      const got = await t.inject('GET', `${machines('Fleet')}/with-identity?${V}`, { as: owner });
      assert.deepEqual(got.body['identity'], {
        type: 'SystemAssigned',
        principalId: identity,
        tenantId: TEST_TENANT,
      });
      const listed = await t.inject(
        'GET',
        `${machines('Fleet')}?${V}&$skiptoken=${Buffer.from(JSON.stringify({ after: id.slice(0, -1) })).toString('base64url')}`,
        { as: owner },
      );
      const entry = (
        listed.body['value'] as { name: string; identity?: { principalId: string } }[]
      ).find((m) => m.name === 'with-identity');
      assert.equal(entry?.identity?.principalId, identity);
    });

    void it('answers 401 AuthenticationFailed without a token', async () => {
      const res = await t.inject('GET', `${machines('Fleet')}/web-01?${V}`);
      assert.equal(res.status, 401);
      assert.equal((res.body['error'] as { code: string }).code, 'AuthenticationFailed');
    });
  });
}
