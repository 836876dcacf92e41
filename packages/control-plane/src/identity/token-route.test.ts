// The token endpoint and OIDC discovery, in process: client secrets and client assertions are
// accepted or refused the way Entra does, with OAuth error bodies msal-node can read.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { decodeJwt, SignJWT } from 'jose';
import {
  MANAGEMENT_SCOPE,
  TEST_PUBLIC_URL,
  TestControlPlane,
} from '../server/testing/test-control-plane.js';
import {
  createTestClientCertificate,
  signTestAssertion,
  type TestClientCertificate,
} from './testing/test-client-certificates.js';
import { JWT_BEARER_ASSERTION_TYPE } from './client-authenticator.js';

const DAY_MS = 86_400_000;

void describe('token endpoint', () => {
  let plane: TestControlPlane;
  let owner: string;
  let sp: { id: string; appId: string };
  let secret: string;
  let certificate: TestClientCertificate;
  let tokenUrl: string;

  // Each case starts in a fresh failure window: these cases refuse, on purpose, more sign-ins
  // from one address than the endpoint allows in one (its limits are tested on their own).
  beforeEach(() => plane.clock.advance(60_000));

  before(async () => {
    plane = await TestControlPlane.start();
    owner = await plane.ownerToken();
    tokenUrl = `/${plane.tenantId}/oauth2/v2.0/token`;
    const created = await plane.request('POST', '/v1.0/servicePrincipals', {
      token: owner,
      body: { displayName: 'token-test' },
    });
    sp = { id: String(created.body['id']), appId: String(created.body['appId']) };
    const password = await plane.request('POST', `/v1.0/servicePrincipals/${sp.id}/addPassword`, {
      token: owner,
      body: { passwordCredential: { displayName: 'ci' } },
    });
    secret = String(password.body['secretText']);
    const now = plane.clock.now();
    certificate = await createTestClientCertificate({
      notBefore: new Date(now - DAY_MS),
      notAfter: new Date(now + 90 * DAY_MS),
    });
    const key = await plane.request('POST', `/v1.0/servicePrincipals/${sp.id}/addKey`, {
      token: owner,
      body: { keyCredential: { displayName: 'cert', key: certificate.pem } },
    });
    assert.equal(key.status, 200, JSON.stringify(key.body));
  });
  after(() => plane.close());

  const secretForm = (overrides: Record<string, string> = {}) => ({
    grant_type: 'client_credentials',
    client_id: sp.appId,
    client_secret: secret,
    scope: MANAGEMENT_SCOPE,
    ...overrides,
  });
  const assertionForm = (assertion: string) => ({
    grant_type: 'client_credentials',
    client_id: sp.appId,
    client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
    client_assertion: assertion,
    scope: MANAGEMENT_SCOPE,
  });
  const assertion = (options: Partial<Parameters<typeof signTestAssertion>[0]> = {}) =>
    signTestAssertion({
      certificate,
      clientId: sp.appId,
      audience: `${TEST_PUBLIC_URL}/${plane.tenantId}/oauth2/v2.0/token`,
      now: Math.floor(plane.clock.now() / 1000),
      ...options,
    });

  const refused = async (
    form: Record<string, string>,
    status: number,
    error: string,
    aadsts: number,
    description: RegExp,
  ) => {
    const answer = await plane.request('POST', tokenUrl, { form });
    assert.equal(answer.status, status, JSON.stringify(answer.body));
    assert.equal(answer.body['error'], error);
    assert.deepEqual(answer.body['error_codes'], [aadsts]);
    assert.match(String(answer.body['error_description']), new RegExp(`^AADSTS${aadsts}: `));
    assert.match(String(answer.body['error_description']), description);
    assert.equal(typeof answer.body['correlation_id'], 'string');
    assert.equal(answer.body['access_token'], undefined);
  };

  void it('publishes OIDC discovery with every endpoint on the public URL', async () => {
    const answer = await plane.request(
      'GET',
      `/${plane.tenantId}/v2.0/.well-known/openid-configuration`,
    );
    assert.equal(answer.status, 200);
    const base = `${TEST_PUBLIC_URL}/${plane.tenantId}`;
    assert.equal(answer.body['issuer'], `${base}/v2.0`);
    assert.equal(answer.body['token_endpoint'], `${base}/oauth2/v2.0/token`);
    assert.equal(answer.body['jwks_uri'], `${base}/discovery/v2.0/keys`);
    assert.equal(answer.body['authorization_endpoint'], `${base}/oauth2/v2.0/authorize`);
  });

  void it('refuses discovery for another tenant', async () => {
    const answer = await plane.request(
      'GET',
      '/00000000-0000-0000-0000-000000000001/v2.0/.well-known/openid-configuration',
    );
    assert.equal(answer.status, 400);
    assert.equal(answer.body['error'], 'invalid_request');
    assert.deepEqual(answer.body['error_codes'], [90002]);
  });

  void it('publishes the signing key in the JWKS', async () => {
    const answer = await plane.request('GET', `/${plane.tenantId}/discovery/v2.0/keys`);
    const keys = answer.body['keys'] as { kid: string; kty: string; alg: string; d?: string }[];
    assert.equal(keys.length, 1);
    assert.equal(keys[0]?.kty, 'RSA');
    assert.equal(keys[0]?.alg, 'RS256');
    assert.equal(keys[0]?.d, undefined, 'no private part');
  });

  void it('issues a token for a client secret, with the claims ARM callers read', async () => {
    const answer = await plane.request('POST', tokenUrl, { form: secretForm() });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body['token_type'], 'Bearer');
    assert.equal(answer.body['expires_in'], 3600);
    assert.equal(answer.headers['cache-control'], 'no-store');
    const claims = decodeJwt(String(answer.body['access_token']));
    const now = Math.floor(plane.clock.now() / 1000);
    assert.equal(claims.aud, 'https://management.azure.com/');
    assert.equal(claims.iss, `${TEST_PUBLIC_URL}/${plane.tenantId}/v2.0`);
    assert.equal(claims['tid'], plane.tenantId);
    assert.equal(claims['oid'], sp.id);
    assert.equal(claims['appid'], sp.appId);
    assert.equal(claims.iat, now);
    assert.equal(claims.nbf, now);
    assert.equal(claims.exp, now + 3600);
    assert.equal(typeof claims['credid'], 'string');
  });

  void it("issues a token for this server's own URL as the resource", async () => {
    const answer = await plane.request('POST', tokenUrl, {
      form: secretForm({ scope: `${TEST_PUBLIC_URL}/.default` }),
    });
    assert.equal(answer.status, 200);
    assert.equal(decodeJwt(String(answer.body['access_token'])).aud, `${TEST_PUBLIC_URL}/`);
  });

  void it('refuses a wrong secret', () =>
    refused(
      secretForm({ client_secret: `${secret.slice(0, 3)}wrong` }),
      401,
      'invalid_client',
      7000215,
      /Invalid client secret/,
    ));

  void it("echoes msal's client-request-id as the error's correlation id", async () => {
    const id = '0b8f6f0e-5c3a-4d7e-9a57-3f2b1d0c9e8a';
    const answer = await plane.request('POST', `${tokenUrl}?client-request-id=${id}`, {
      form: secretForm({ client_secret: 'wrong' }),
    });
    assert.equal(answer.body['correlation_id'], id);
    assert.match(String(answer.body['error_description']), new RegExp(`Correlation ID: ${id}`));
  });

  void it('refuses an unknown client id', () =>
    refused(
      secretForm({ client_id: '11111111-2222-3333-4444-555555555555' }),
      400,
      'unauthorized_client',
      700016,
      /was not found/,
    ));

  void it('refuses a request without a secret or assertion', async () => {
    const form = secretForm();
    delete (form as Partial<typeof form>).client_secret;
    await refused(form, 401, 'invalid_client', 7000218, /client_assertion' or 'client_secret/);
  });

  void it('refuses missing parameters, naming each', async () => {
    for (const name of ['grant_type', 'scope', 'client_id'] as const) {
      const form = secretForm();
      delete (form as Partial<typeof form>)[name];
      await refused(form, 400, 'invalid_request', 900144, new RegExp(`'${name}'`));
    }
  });

  void it('refuses other grant types', () =>
    refused(
      secretForm({ grant_type: 'password' }),
      400,
      'unsupported_grant_type',
      70003,
      /'password'/,
    ));

  void it('refuses scopes that are not one <resource>/.default', async () => {
    await refused(
      secretForm({ scope: 'https://management.azure.com/user_impersonation' }),
      400,
      'invalid_scope',
      1002012,
      /\/\.default/,
    );
    await refused(
      secretForm({ scope: `${MANAGEMENT_SCOPE} ${TEST_PUBLIC_URL}/.default` }),
      400,
      'invalid_scope',
      1002012,
      /single scope/,
    );
  });

  void it('refuses a resource this server does not serve', () =>
    refused(
      secretForm({ scope: 'https://graph.microsoft.com/.default' }),
      400,
      'invalid_resource',
      500011,
      /graph\.microsoft\.com/,
    ));

  void it('refuses a body that is not form-encoded', async () => {
    const answer = await plane.request('POST', tokenUrl, { body: secretForm() });
    assert.equal(answer.status, 400);
    assert.equal(answer.body['error'], 'invalid_request');
  });

  void it('refuses another tenant', async () => {
    const answer = await plane.request(
      'POST',
      '/00000000-0000-0000-0000-000000000001/oauth2/v2.0/token',
      { form: secretForm() },
    );
    assert.equal(answer.status, 400);
    assert.deepEqual(answer.body['error_codes'], [90002]);
  });

  void it('refuses an expired secret, saying it expired', async () => {
    const added = await plane.request('POST', `/v1.0/servicePrincipals/${sp.id}/addPassword`, {
      token: owner,
      body: {
        passwordCredential: { endDateTime: new Date(plane.clock.now() + DAY_MS).toISOString() },
      },
    });
    const shortLived = String(added.body['secretText']);
    plane.clock.advance(2 * DAY_MS);
    try {
      await refused(
        secretForm({ client_secret: shortLived }),
        401,
        'invalid_client',
        7000222,
        /expired/,
      );
    } finally {
      plane.clock.advance(-2 * DAY_MS);
    }
  });

  void it('issues a token for a client assertion signed by a registered certificate', async () => {
    const answer = await plane.request('POST', tokenUrl, {
      form: assertionForm(await assertion()),
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const claims = decodeJwt(String(answer.body['access_token']));
    assert.equal(claims['oid'], sp.id);
    assert.equal(claims['appidacr'], '2');
  });

  void it('accepts PS256 assertions and the SHA-1 x5t header alone', async () => {
    const pss = await plane.request('POST', tokenUrl, {
      form: assertionForm(await assertion({ alg: 'PS256' })),
    });
    assert.equal(pss.status, 200, JSON.stringify(pss.body));
    const sha1 = await plane.request('POST', tokenUrl, {
      form: assertionForm(await assertion({ header: { x5t: certificate.thumbprintSha1 } })),
    });
    assert.equal(sha1.status, 200, JSON.stringify(sha1.body));
  });

  void it('accepts ES256 assertions from an EC certificate', async () => {
    const now = plane.clock.now();
    const ec = await createTestClientCertificate({
      kind: 'ec-p256',
      notBefore: new Date(now - DAY_MS),
      notAfter: new Date(now + DAY_MS),
    });
    const added = await plane.request('POST', `/v1.0/servicePrincipals/${sp.id}/addKey`, {
      token: owner,
      body: { keyCredential: { key: ec.pem } },
    });
    assert.equal(added.status, 200);
    const answer = await plane.request('POST', tokenUrl, {
      form: assertionForm(await assertion({ certificate: ec, alg: 'ES256' })),
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
  });

  void it('refuses a replayed assertion (jti used before for the same resource)', async () => {
    const once = await assertion();
    assert.equal(
      (await plane.request('POST', tokenUrl, { form: assertionForm(once) })).status,
      200,
    );
    await refused(assertionForm(once), 401, 'invalid_client', 50013, /already been used/);
    // msal-node reuses an assertion for its other scopes: one token per resource.
    const other = { ...assertionForm(once), scope: `${TEST_PUBLIC_URL}/.default` };
    assert.equal((await plane.request('POST', tokenUrl, { form: other })).status, 200);
    await refused(other, 401, 'invalid_client', 50013, /already been used/);
  });

  void it('refuses an assertion with a bad signature', async () => {
    const now = plane.clock.now();
    const other = await createTestClientCertificate({
      notBefore: new Date(now - DAY_MS),
      notAfter: new Date(now + DAY_MS),
    });
    await refused(
      assertionForm(await assertion({ signWith: other.privateKey })),
      401,
      'invalid_client',
      700027,
      /signature/,
    );
    const token = await assertion();
    const tampered = `${token.slice(0, -6)}${token.slice(-6) === 'AAAAAA' ? 'BBBBBB' : 'AAAAAA'}`;
    await refused(assertionForm(tampered), 401, 'invalid_client', 700027, /signature/);
  });

  void it('refuses an assertion for another audience', () =>
    assertion({ audience: 'https://login.microsoftonline.com/common/oauth2/v2.0/token' }).then(
      (a) => refused(assertionForm(a), 401, 'invalid_client', 50013, /audience/),
    ));

  void it('refuses an assertion whose iss/sub is not the client id', () =>
    assertion({ clientId: '99999999-2222-3333-4444-555555555555' }).then((a) =>
      refused(assertionForm(a), 401, 'invalid_client', 700021, /client_id/),
    ));

  void it('refuses an assertion whose alg is an object with a non-function toString', async () => {
    // Found by fuzzing: String(alg) threw before the signature was looked at, answering 500.
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    await refused(
      assertionForm(`${b64({ alg: { toString: 1 } })}.${b64({})}.c2ln`),
      401,
      'invalid_client',
      700027,
      /signed with '\{"toString":1\}'; the accepted algorithms are RS256, PS256, ES256/,
    );
  });

  void it('refuses a signed assertion whose iss and sub are objects, not text', async () => {
    const now = Math.floor(plane.clock.now() / 1000);
    // Typed as claims take them; the JSON carries objects, as a crafted client's would.
    const crafted = JSON.parse('{"toString":1,"valueOf":1}') as string;
    const signed = await new SignJWT({ iss: crafted, sub: crafted, jti: 'object-claims' })
      .setProtectedHeader({ alg: 'RS256', 'x5t#S256': certificate.thumbprintS256 })
      .setAudience(`${TEST_PUBLIC_URL}/${plane.tenantId}/oauth2/v2.0/token`)
      .setNotBefore(now)
      .setExpirationTime(now + 600)
      .sign(certificate.privateKey);
    await refused(
      assertionForm(signed),
      401,
      'invalid_client',
      700021,
      /iss '\{"toString":1,"valueOf":1\}' and sub .* must both be the client_id/,
    );
  });

  void it('refuses an assertion naming an unknown certificate', () =>
    assertion({ header: { 'x5t#S256': 'bm90LWEtcmVnaXN0ZXJlZC1jZXJ0aWZpY2F0ZQ' } }).then((a) =>
      refused(assertionForm(a), 401, 'invalid_client', 700027, /key was not found/),
    ));

  void it('refuses an expired or not yet valid assertion', async () => {
    const now = Math.floor(plane.clock.now() / 1000);
    await refused(
      assertionForm(await assertion({ now: now - 7200 })),
      401,
      'invalid_client',
      700024,
      /expired/,
    );
    await refused(
      assertionForm(await assertion({ now: now + 3600 })),
      401,
      'invalid_client',
      700024,
      /not valid yet/,
    );
  });

  void it('refuses an assertion that lives too long to be remembered', () =>
    assertion({ lifetimeSeconds: 86_400 }).then((a) =>
      refused(assertionForm(a), 401, 'invalid_client', 700024, /too far ahead/),
    ));

  void it('refuses an assertion once its certificate credential has expired', async () => {
    const now = plane.clock.now();
    const brief = await createTestClientCertificate({
      notBefore: new Date(now - DAY_MS),
      notAfter: new Date(now + DAY_MS),
    });
    const added = await plane.request('POST', `/v1.0/servicePrincipals/${sp.id}/addKey`, {
      token: owner,
      body: { keyCredential: { key: brief.pem } },
    });
    assert.equal(added.status, 200);
    plane.clock.advance(2 * DAY_MS);
    try {
      await refused(
        assertionForm(await assertion({ certificate: brief })),
        401,
        'invalid_client',
        700027,
        /expired/,
      );
    } finally {
      plane.clock.advance(-2 * DAY_MS);
    }
  });

  void it('refuses a client assertion with the wrong assertion type, and both proofs at once', async () => {
    const form = { ...assertionForm(await assertion()), client_assertion_type: 'urn:other' };
    await refused(form, 400, 'invalid_request', 50027, /client_assertion_type/);
    await refused(
      { ...assertionForm(await assertion()), client_secret: secret },
      400,
      'invalid_request',
      90023,
      /not both/,
    );
  });
});
