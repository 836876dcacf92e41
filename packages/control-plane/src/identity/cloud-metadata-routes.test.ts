// What the Azure CLI reads before it signs in: the cloud description (`az cloud register`),
// the AD FS-shaped authority's discovery and the `organizations`/`common` aliases (sign-out).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_PUBLIC_URL, TestControlPlane } from '../server/testing/test-control-plane.js';

void describe('cloud metadata and sign-in discovery', () => {
  let plane: TestControlPlane;
  before(async () => {
    plane = await TestControlPlane.start();
  });
  after(() => plane.close());

  void it('describes the cloud in the 2015-01-01 shape az cloud register reads', async () => {
    const answer = await plane.request('GET', '/metadata/endpoints?api-version=2015-01-01');
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body['authentication'], {
      loginEndpoint: `${TEST_PUBLIC_URL}/adfs`,
      audiences: [`${TEST_PUBLIC_URL}/`],
    });
    assert.equal(answer.body['graphEndpoint'], `${TEST_PUBLIC_URL}/`);
  });

  void it('lists the cloud in the later shape, with the tenant and identity provider', async () => {
    for (const version of ['2019-05-01', '2022-09-01']) {
      const answer = await plane.request('GET', `/metadata/endpoints?api-version=${version}`);
      assert.equal(answer.status, 200, version);
      const clouds = answer.body as unknown as Record<string, unknown>[];
      assert.ok(Array.isArray(clouds), `${version} answers a list`);
      assert.equal(clouds.length, 1);
      assert.equal(clouds[0]?.['resourceManager'], `${TEST_PUBLIC_URL}/`);
      assert.deepEqual(clouds[0]?.['authentication'], {
        loginEndpoint: `${TEST_PUBLIC_URL}/adfs`,
        audiences: [`${TEST_PUBLIC_URL}/`],
        tenant: plane.tenantId,
        identityProvider: 'ADFS',
      });
    }
  });

  void it('refuses a missing or unknown api-version, naming the ones served', async () => {
    const missing = await plane.request('GET', '/metadata/endpoints');
    assert.equal(missing.status, 400);
    const unknown = await plane.request('GET', '/metadata/endpoints?api-version=2014-01-01');
    assert.equal(unknown.status, 400);
    const error = unknown.body['error'] as { code: string; message: string };
    assert.equal(error.code, 'InvalidApiVersionParameter');
    assert.match(error.message, /2015-01-01/);
  });

  void it('serves the AD FS-shaped authority with the tenant token endpoint', async () => {
    const answer = await plane.request('GET', '/adfs/.well-known/openid-configuration');
    assert.equal(answer.status, 200);
    const base = `${TEST_PUBLIC_URL}/${plane.tenantId}`;
    assert.equal(answer.body['token_endpoint'], `${base}/oauth2/v2.0/token`);
    assert.equal(answer.body['authorization_endpoint'], `${base}/oauth2/v2.0/authorize`);
    assert.equal(answer.body['issuer'], `${base}/v2.0`);
  });

  void it('answers discovery for the organizations and common aliases, not other names', async () => {
    for (const alias of ['organizations', 'common', 'Organizations']) {
      const answer = await plane.request('GET', `/${alias}/v2.0/.well-known/openid-configuration`);
      assert.equal(answer.status, 200, alias);
      assert.equal(
        answer.body['token_endpoint'],
        `${TEST_PUBLIC_URL}/${plane.tenantId}/oauth2/v2.0/token`,
      );
    }
    const other = await plane.request('GET', '/consumers/v2.0/.well-known/openid-configuration');
    assert.equal(other.status, 400);
    assert.match(String(other.body['error_description']), /'consumers' not found/);
  });
});
