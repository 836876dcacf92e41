// The unmodified @azure/identity credentials against a real `tether server`: they discover the
// token endpoint, get tokens with a secret or a certificate, and those tokens open the API —
// until their secret or principal is deleted.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateKeyPairSync } from 'node:crypto';
import { decodeJwt, SignJWT } from 'jose';
import { runNodeClient, startControlPlane, type ControlPlane } from '../harness/index.js';
import {
  addCertificate,
  addPassword,
  createServicePrincipal,
  credentialInput,
  MANAGEMENT_SCOPE,
  type CredentialAnswer,
} from './identity-fixtures.js';

void describe('@azure/identity against tether server', () => {
  let plane: ControlPlane;
  before(async () => {
    plane = await startControlPlane();
  });
  after(() => plane.stop());

  const run = (input: string) =>
    runNodeClient<CredentialAnswer>('identity-credential', [input], plane.clientEnv());

  void it('ClientSecretCredential gets tokens for ARM and for Tether, and the token opens the API', async () => {
    const answer = await run(
      credentialInput(plane, plane.appId, { clientSecret: plane.password }, [
        `${plane.url}/.default`,
        MANAGEMENT_SCOPE,
      ]),
    );
    assert.equal(answer.ok, true, JSON.stringify(answer.error));
    const [own, arm] = answer.tokens.map((t) => decodeJwt(t.token));
    assert.equal(own?.aud, `${plane.url}/`);
    assert.equal(arm?.aud, 'https://management.azure.com/');
    assert.equal(arm?.['tid'], plane.tenantId);
    assert.equal(arm?.['appid'], plane.appId);
    assert.equal(arm?.iss, `${plane.url}/${plane.tenantId}/v2.0`);
    assert.equal(answer.call?.status, 200, JSON.stringify(answer.call?.body));
    // With instance discovery off, msal-node asks only for OIDC discovery and tokens.
    const asked = plane
      .logs()
      .split('\n')
      .filter((line) => line.includes('"incoming request"'))
      .map((line) => (JSON.parse(line) as { req: { method: string; url: string } }).req)
      .map((req) => `${req.method} ${req.url.split('?')[0] ?? ''}`);
    assert.deepEqual(asked.slice(0, 3), [
      `GET /${plane.tenantId}/v2.0/.well-known/openid-configuration`,
      `POST /${plane.tenantId}/oauth2/v2.0/token`,
      `POST /${plane.tenantId}/oauth2/v2.0/token`,
    ]);
  });

  void it('ClientCertificateCredential gets tokens for two resources with a registered certificate', async () => {
    const sp = await createServicePrincipal(plane, 'e2e-certificate');
    const { pemPath } = await addCertificate(plane, sp.id);
    const scopes = [MANAGEMENT_SCOPE, `${plane.url}/.default`];
    const answer = await run(
      credentialInput(
        plane,
        sp.appId,
        { certificatePath: pemPath },
        scopes,
        `${plane.url}/v1.0/users`,
      ),
    );
    assert.equal(answer.ok, true, JSON.stringify(answer.error));
    const claims = answer.tokens.map((t) => decodeJwt(t.token));
    assert.deepEqual(
      claims.map((c) => c.aud),
      ['https://management.azure.com/', `${plane.url}/`],
    );
    assert.ok(claims.every((c) => c['oid'] === sp.id && c['appidacr'] === '2'));
    // No role yet: authenticated, then refused by RBAC.
    assert.equal(answer.call?.status, 403, JSON.stringify(answer.call?.body));
    assert.equal(answer.call?.body?.error?.code, 'AuthorizationFailed');
  });

  void it("refuses a deleted secret's token with 401, and the secret itself", async () => {
    const sp = await createServicePrincipal(plane, 'e2e-deleted-secret');
    const { keyId, secret } = await addPassword(plane, sp.id);
    const first = await run(credentialInput(plane, sp.appId, { clientSecret: secret }));
    assert.equal(first.ok, true, JSON.stringify(first.error));
    assert.equal(first.call?.status, 403, 'authenticated (no role yet)');
    const token = first.tokens[0]?.token ?? '';

    const removed = await plane.admin.call(
      'POST',
      `/v1.0/servicePrincipals/${sp.id}/removePassword`,
      { body: { keyId } },
    );
    assert.equal(removed.status, 204);
    const refused = await plane.admin.call('GET', '/v1.0/users', { token });
    assert.equal(refused.status, 401);
    assert.equal((refused.body['error'] as { code: string }).code, 'InvalidAuthenticationToken');
    assert.match(
      String(refused.headers['www-authenticate']),
      /^Bearer authorization_uri="[^"]+", error="invalid_token"/,
    );

    const again = await run(credentialInput(plane, sp.appId, { clientSecret: secret }));
    assert.equal(again.ok, false);
    assert.match(again.error?.message ?? '', /AADSTS7000215/);
  });

  void it("refuses a deleted principal's token with 401", async () => {
    const sp = await createServicePrincipal(plane, 'e2e-deleted-principal');
    const { secret } = await addPassword(plane, sp.id);
    const token = await plane.admin.tokenFor(sp.appId, secret);
    assert.equal((await plane.admin.call('GET', '/v1.0/users', { token })).status, 403);
    assert.equal(
      (await plane.admin.call('DELETE', `/v1.0/servicePrincipals/${sp.id}`)).status,
      204,
    );
    const refused = await plane.admin.call('GET', '/v1.0/users', { token });
    assert.equal(refused.status, 401);
    assert.match((refused.body['error'] as { message: string }).message, /has been deleted/);
  });

  void it('surfaces the OAuth error for a resource this server does not serve', async () => {
    const answer = await run(
      credentialInput(
        plane,
        plane.appId,
        { clientSecret: plane.password },
        ['https://graph.microsoft.com/.default'],
        undefined,
      ),
    );
    assert.equal(answer.ok, false);
    assert.match(answer.error?.message ?? '', /AADSTS500011/);
  });

  void it('refuses requests without a token, with garbage, or signed by an unknown key, with an ARM 401', async () => {
    const none = await plane.admin.call('GET', '/v1.0/users', { token: null });
    assert.equal(none.status, 401);
    assert.equal((none.body['error'] as { code: string }).code, 'AuthenticationFailed');
    const garbage = await plane.admin.call('GET', '/v1.0/users', {
      token: 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln',
    });
    assert.equal(garbage.status, 401);
    assert.equal((garbage.body['error'] as { code: string }).code, 'InvalidAuthenticationToken');

    // Real claims, copied from a real token, re-signed by a key the server never made.
    const claims = decodeJwt(await plane.admin.tokenFor(plane.appId, plane.password));
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: 'attacker-key' })
      .sign(privateKey);
    const refused = await plane.admin.call('GET', '/v1.0/users', { token: forged });
    assert.equal(refused.status, 401);
    assert.match(
      (refused.body['error'] as { message: string }).message,
      /key this server does not know/,
    );
  });
});
