// Bearer-token checks with a ManualClock: every way a token is refused, with the ARM code and
// challenge a client sees, and the cache that must never outlive a deletion.
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { decodeJwt, SignJWT, type JWTPayload } from 'jose';
import { TEST_PUBLIC_URL, TestControlPlane } from '../server/testing/test-control-plane.js';
import { AuthenticationError } from './authentication-error.js';
import { ACCESS_TOKEN_CLOCK_SKEW_SECONDS, DEFAULT_REVALIDATE_MS } from './token-authenticator.js';

const HOUR_MS = 3_600_000;

void describe('token authenticator', () => {
  let plane: TestControlPlane;
  let owner: string;
  before(async () => {
    plane = await TestControlPlane.start();
    owner = await plane.ownerToken();
  });
  after(() => plane.close());

  const authenticate = (header: string | undefined) =>
    plane.controlPlane.identity.authenticator.authenticate(header);

  const refusal = async (header: string | undefined, code: string, message: RegExp) => {
    await assert.rejects(authenticate(header), (error: unknown) => {
      assert.ok(error instanceof AuthenticationError, String(error));
      assert.equal(error.code, code);
      assert.equal(error.status, 401);
      assert.match(error.message, message);
      assert.match(
        error.challenge,
        /^Bearer authorization_uri="https:\/\/tether\.test:8443\/[0-9a-f-]+", error="invalid_token"/,
      );
      return true;
    });
  };

  /** A token signed with the server's own key and the claims given (defaults: valid ones). */
  const forge = async (claims: JWTPayload, header: Record<string, string> = {}) => {
    const valid = decodeJwt(owner);
    const { kid, key } = plane.controlPlane.identity.keys.signingKey();
    return new SignJWT({ ...valid, ...claims })
      .setProtectedHeader({ alg: 'RS256', kid, ...header })
      .sign(key);
  };

  /** A new service principal with a secret, and a token it got with that secret. */
  const newPrincipal = async () => {
    const sp = await plane.request('POST', '/v1.0/servicePrincipals', {
      token: owner,
      body: { displayName: `sp-${randomUUID().slice(0, 6)}` },
    });
    const id = String(sp.body['id']);
    const appId = String(sp.body['appId']);
    const password = await plane.request('POST', `/v1.0/servicePrincipals/${id}/addPassword`, {
      token: owner,
      body: {},
    });
    const keyId = String(password.body['keyId']);
    const token = await plane.token(appId, String(password.body['secretText']));
    return { id, appId, keyId, token };
  };

  void it('accepts a valid token and names the caller', async () => {
    const caller = await authenticate(`Bearer ${owner}`);
    assert.equal(caller.principalId, plane.installation.principalId);
    assert.equal(caller.principalType, 'ServicePrincipal');
    assert.equal(caller.name, plane.installation.appId);
    assert.equal(caller.claims['tid'], plane.tenantId);
  });

  void it('refuses a missing or malformed Authorization header', async () => {
    await refusal(undefined, 'AuthenticationFailed', /header is missing/);
    await refusal('', 'AuthenticationFailed', /header is missing/);
    await refusal(`Basic ${owner}`, 'InvalidAuthenticationToken', /scheme 'Bearer'/);
    await refusal('Bearer', 'InvalidAuthenticationToken', /scheme 'Bearer'/);
    await refusal('Bearer not-a-jwt', 'InvalidAuthenticationToken', /not a well-formed JWT/);
  });

  void it('refuses a token whose alg is an object with a non-function toString', async () => {
    // Found by fuzzing: String(alg) threw, and the request answered 500 instead of 401.
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    await refusal(
      `Bearer ${b64({ alg: { toString: 1 }, typ: 'JWT' })}.${b64({})}.c2ln`,
      'InvalidAuthenticationToken',
      /signed with '\{"toString":1\}', but this server signs and accepts only RS256/,
    );
  });

  void it('refuses a token whose signature does not verify', async () => {
    const [head, body] = owner.split('.');
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const foreign = await new SignJWT(decodeJwt(owner))
      .setProtectedHeader({ alg: 'RS256', kid: plane.controlPlane.identity.keys.signingKey().kid })
      .sign(other);
    await refusal(
      `Bearer ${head}.${body}.${foreign.split('.')[2] ?? ''}`,
      'InvalidAuthenticationToken',
      /signature does not verify/,
    );
    const tampered = Buffer.from(
      JSON.stringify({ ...decodeJwt(owner), oid: randomUUID() }),
    ).toString('base64url');
    await refusal(
      `Bearer ${head}.${tampered}.${owner.split('.')[2] ?? ''}`,
      'InvalidAuthenticationToken',
      /signature does not verify/,
    );
  });

  void it('refuses a token signed by an unknown key', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const token = await new SignJWT(decodeJwt(owner))
      .setProtectedHeader({ alg: 'RS256', kid: 'someone-elses-key' })
      .sign(other);
    await refusal(
      `Bearer ${token}`,
      'InvalidAuthenticationToken',
      /key this server does not know.*someone-elses-key/,
    );
  });

  void it('refuses tokens that are not RS256 (none, HS256)', async () => {
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${owner.split('.')[1] ?? ''}.`;
    await refusal(`Bearer ${none}`, 'InvalidAuthenticationToken', /'none'/);
    const hs = await new SignJWT(decodeJwt(owner))
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new Uint8Array(32));
    await refusal(`Bearer ${hs}`, 'InvalidAuthenticationToken', /'HS256'/);
  });

  void it('refuses an expired token, beyond the allowed skew, even after caching it', async () => {
    const { token } = await newPrincipal();
    await authenticate(`Bearer ${token}`);
    plane.clock.advance(HOUR_MS + (ACCESS_TOKEN_CLOCK_SKEW_SECONDS - 1) * 1000);
    try {
      await authenticate(`Bearer ${token}`);
      plane.clock.advance(2000);
      await refusal(
        `Bearer ${token}`,
        'ExpiredAuthenticationToken',
        /expiry UTC time .* is earlier than current UTC time/,
      );
    } finally {
      plane.clock.advance(-(HOUR_MS + (ACCESS_TOKEN_CLOCK_SKEW_SECONDS + 1) * 1000));
    }
  });

  void it('refuses a token that is not yet valid, allowing the documented skew', async () => {
    const now = Math.floor(plane.clock.now() / 1000);
    const soon = await forge({ nbf: now + ACCESS_TOKEN_CLOCK_SKEW_SECONDS - 5, iat: now });
    await authenticate(`Bearer ${soon}`);
    const later = await forge({ nbf: now + ACCESS_TOKEN_CLOCK_SKEW_SECONDS + 5, iat: now });
    await refusal(`Bearer ${later}`, 'InvalidAuthenticationToken', /not yet valid/);
  });

  void it('refuses a token for another audience', async () => {
    const token = await forge({ aud: 'https://graph.microsoft.com/' });
    await refusal(
      `Bearer ${token}`,
      'InvalidAuthenticationTokenAudience',
      /wrong audience.*graph\.microsoft\.com/,
    );
  });

  void it("accepts both the management audience and this server's URL", async () => {
    for (const aud of [
      'https://management.azure.com/',
      'https://management.azure.com',
      `${TEST_PUBLIC_URL}/`,
      TEST_PUBLIC_URL,
    ]) {
      await authenticate(`Bearer ${await forge({ aud })}`);
    }
  });

  void it('refuses a token from another issuer or tenant', async () => {
    await refusal(
      `Bearer ${await forge({ iss: 'https://login.microsoftonline.com/x/v2.0' })}`,
      'InvalidAuthenticationToken',
      /another issuer/,
    );
    await refusal(
      `Bearer ${await forge({ tid: randomUUID() })}`,
      'InvalidAuthenticationToken',
      /from tenant/,
    );
  });

  void it('refuses a token missing a required claim', async () => {
    const claims = { ...decodeJwt(owner) };
    delete claims['credid'];
    const { kid, key } = plane.controlPlane.identity.keys.signingKey();
    const token = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).sign(key);
    await refusal(`Bearer ${token}`, 'InvalidAuthenticationToken', /'credid' is missing/);
  });

  void it("refuses a deleted principal's token at once, even though it was cached", async () => {
    const { id, token } = await newPrincipal();
    await authenticate(`Bearer ${token}`);
    const deleted = await plane.request('DELETE', `/v1.0/servicePrincipals/${id}`, {
      token: owner,
    });
    assert.equal(deleted.status, 204);
    await refusal(`Bearer ${token}`, 'InvalidAuthenticationToken', /has been deleted/);
  });

  void it("refuses a deleted secret's token at once, but not tokens of the principal's other secret", async () => {
    const { id, appId, keyId, token } = await newPrincipal();
    const second = await plane.request('POST', `/v1.0/servicePrincipals/${id}/addPassword`, {
      token: owner,
      body: {},
    });
    const otherToken = await plane.token(appId, String(second.body['secretText']));
    await authenticate(`Bearer ${token}`);
    const removed = await plane.request('POST', `/v1.0/servicePrincipals/${id}/removePassword`, {
      token: owner,
      body: { keyId },
    });
    assert.equal(removed.status, 204);
    await refusal(
      `Bearer ${token}`,
      'InvalidAuthenticationToken',
      new RegExp(`credential '${keyId}'`),
    );
    await authenticate(`Bearer ${otherToken}`);
  });

  void it('refuses a token once the credential it was obtained with has expired', async () => {
    const sp = await newPrincipal();
    const brief = await plane.request('POST', `/v1.0/servicePrincipals/${sp.id}/addPassword`, {
      token: owner,
      body: {
        passwordCredential: {
          endDateTime: new Date(plane.clock.now() + 10 * 60_000).toISOString(),
        },
      },
    });
    const token = await plane.token(sp.appId, String(brief.body['secretText']));
    await authenticate(`Bearer ${token}`);
    plane.clock.advance(11 * 60_000);
    try {
      await refusal(`Bearer ${token}`, 'InvalidAuthenticationToken', /expired at/);
    } finally {
      plane.clock.advance(-11 * 60_000);
    }
  });

  void it('notices a deletion made behind its back (another process) within the revalidation interval', async () => {
    const { id, token } = await newPrincipal();
    await authenticate(`Bearer ${token}`);
    await plane.db.deleteFrom('credentials').where('principal_id', '=', id).execute();
    await plane.db.deleteFrom('principals').where('id', '=', id).execute();
    plane.clock.advance(DEFAULT_REVALIDATE_MS);
    try {
      await refusal(`Bearer ${token}`, 'InvalidAuthenticationToken', /has been deleted/);
    } finally {
      plane.clock.advance(-DEFAULT_REVALIDATE_MS);
    }
  });

  void it('answers a refused request with 401, the ARM body and a WWW-Authenticate challenge', async () => {
    const answer = await plane.request('GET', '/v1.0/servicePrincipals', {
      token: await forge({ aud: 'https://vault.azure.net' }),
    });
    assert.equal(answer.status, 401);
    const error = answer.body['error'] as Record<string, unknown>;
    assert.equal(error['code'], 'InvalidAuthenticationTokenAudience');
    assert.match(
      String(answer.headers['www-authenticate']),
      /^Bearer authorization_uri=".*", error="invalid_token", error_description="The access token has been obtained for wrong audience/,
    );
    const missing = await plane.request('GET', '/v1.0/servicePrincipals');
    assert.equal(missing.status, 401);
    assert.equal(
      (missing.body['error'] as Record<string, unknown>)['code'],
      'AuthenticationFailed',
    );
    assert.match(String(missing.headers['www-authenticate']), /^Bearer /);
  });
});
