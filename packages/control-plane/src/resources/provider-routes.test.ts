// `az provider list|show|register`: the namespaces, types and api-versions this server really
// serves (read from its routes), and clear refusals for names it does not.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OWNER_ROLE_ID, READER_ROLE_ID } from '../rbac/built-in-roles.js';
import { ArmTestApp } from './testing/arm-test-app.js';
import { MACHINE_API_VERSIONS } from './machine-routes.js';
import { providersOf } from './provider-routes.js';

const V = 'api-version=2022-09-01';

interface Provider {
  namespace: string;
  registrationState: string;
  resourceTypes: { resourceType: string; apiVersions: string[] }[];
}

void describe('resource providers', () => {
  let t: ArmTestApp;
  let sub: string;
  let owner: string;
  let reader: string;

  before(async () => {
    t = await ArmTestApp.start();
    sub = await t.addSubscription();
    owner = await t.addPrincipal();
    reader = await t.addPrincipal();
    await t.assign(owner, OWNER_ROLE_ID, `/subscriptions/${sub}`);
    await t.assign(reader, READER_ROLE_ID, `/subscriptions/${sub}`);
  });
  after(() => t.close());

  void it('derives types from route paths: named segments, not names or actions', () => {
    const handler = () => Promise.resolve(undefined);
    const access = { kind: 'authenticated' } as const;
    const providers = providersOf([
      {
        method: 'GET',
        url: '/subscriptions/:s/providers/A.B/things',
        access,
        apiVersions: ['1'],
        handler,
      },
      {
        method: 'GET',
        url: '/subscriptions/:s/providers/a.b/things/:n/parts/:p',
        access,
        apiVersions: ['2'],
        handler,
      },
      {
        method: 'PUT',
        url: '/subscriptions/:s/providers/A.B/things/:n',
        access,
        apiVersions: ['3'],
        handler,
      },
      {
        method: 'POST',
        url: '/subscriptions/:s/providers/A.B/things/:n/restart',
        access,
        apiVersions: ['4'],
        handler,
      },
      {
        method: 'GET',
        url: '/subscriptions/:s/providers/A.B/things/:n/providers/C.D/notes',
        access,
        apiVersions: ['5'],
        handler,
      },
      { method: 'GET', url: '/v1.0/servicePrincipals', access, handler },
    ]);
    assert.deepEqual(providers, [
      {
        namespace: 'A.B',
        resourceTypes: [
          { resourceType: 'things', apiVersions: ['3', '1'] },
          { resourceType: 'things/parts', apiVersions: ['2'] },
        ],
      },
      { namespace: 'C.D', resourceTypes: [{ resourceType: 'notes', apiVersions: ['5'] }] },
    ]);
  });

  void it('shows Microsoft.HybridCompute with the machine and extension api-versions served', async () => {
    const res = await t.inject(
      'GET',
      `/subscriptions/${sub}/providers/microsoft.hybridcompute?${V}`,
      {
        as: reader,
      },
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const provider = res.body as unknown as Provider;
    assert.equal(provider.namespace, 'Microsoft.HybridCompute');
    assert.equal(provider.registrationState, 'Registered');
    const type = (name: string) => provider.resourceTypes.find((r) => r.resourceType === name);
    assert.deepEqual(type('machines')?.apiVersions.sort(), [...MACHINE_API_VERSIONS].sort());
    assert.deepEqual(
      type('machines/extensions')?.apiVersions.sort(),
      [...MACHINE_API_VERSIONS].sort(),
    );
  });

  void it('lists every namespace, including the ones for access and policy', async () => {
    const res = await t.inject('GET', `/subscriptions/${sub}/providers?${V}`, { as: reader });
    assert.equal(res.status, 200);
    const namespaces = (res.body['value'] as Provider[]).map((p) => p.namespace);
    for (const expected of [
      'Microsoft.HybridCompute',
      'Microsoft.Authorization',
      'Microsoft.GuestConfiguration',
    ]) {
      assert.ok(namespaces.includes(expected), expected);
    }
  });

  void it('refuses a namespace it does not serve, naming those it does', async () => {
    const res = await t.inject('GET', `/subscriptions/${sub}/providers/Microsoft.Compute?${V}`, {
      as: reader,
    });
    assert.equal(res.status, 404);
    const error = res.body['error'] as { code: string; message: string };
    assert.equal(error.code, 'InvalidResourceNamespace');
    assert.match(error.message, /'Microsoft\.Compute'.*Microsoft\.HybridCompute/);
  });

  void it('registers a served namespace for a contributor, not for a reader', async () => {
    const url = `/subscriptions/${sub}/providers/Microsoft.HybridCompute/register?${V}`;
    const done = await t.inject('POST', url, { as: owner });
    assert.equal(done.status, 200);
    assert.equal(done.body['registrationState'], 'Registered');
    const denied = await t.inject('POST', url, { as: reader });
    assert.equal(denied.status, 403);
    const unknown = await t.inject(
      'POST',
      `/subscriptions/${sub}/providers/Foo.Bar/register?${V}`,
      {
        as: owner,
      },
    );
    assert.equal(unknown.status, 404);
  });
});
