// The token endpoint under guessing: failures are limited and answered 429 with Retry-After
// before any hashing, and a secret's first characters no longer decide how much is checked.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../clock.js';
import { TestControlPlane } from '../server/testing/test-control-plane.js';
import type { ClientAssertionVerifier } from './client-assertion.js';
import { ClientAuthenticator } from './client-authenticator.js';
import { CredentialStore } from './credential-store.js';
import { SignInThrottle } from './sign-in-throttle.js';

let cp: TestControlPlane;
before(async () => {
  cp = await TestControlPlane.start();
});
after(() => cp.close());

const SCOPE = 'https://management.azure.com/.default';

function tokenRequest(secret: string) {
  return cp.request('POST', `/${cp.tenantId}/oauth2/v2.0/token`, {
    form: {
      grant_type: 'client_credentials',
      client_id: cp.installation.appId,
      client_secret: secret,
      scope: SCOPE,
    },
  });
}

void describe('token endpoint limits', () => {
  void test('ten wrong secrets from one address, then 429 with Retry-After — even for the right one — until the window ends', async () => {
    for (let i = 0; i < 10; i++) assert.equal((await tokenRequest(`wrong-${i}`)).status, 401);
    const throttled = await tokenRequest(cp.installation.password);
    assert.equal(throttled.status, 429, JSON.stringify(throttled.body));
    assert.equal(throttled.body['error'], 'temporarily_unavailable');
    assert.match(String(throttled.body['error_description']), /Too many failed sign-ins/);
    assert.equal(throttled.headers['retry-after'], '60');
    cp.clock.advance(60_000);
    assert.equal((await tokenRequest(cp.installation.password)).status, 200);
  });

  void test("a wrong secret sharing the real one's first characters costs the same checks as any other", async () => {
    let hashes = 0;
    class Counting extends SignInThrottle {
      override hashing<T>(work: () => Promise<T>): Promise<T> {
        hashes += 1;
        return super.hashing(work);
      }
    }
    const clients = new ClientAuthenticator(
      new CredentialStore(cp.db, new ManualClock()),
      {} as ClientAssertionVerifier, // secrets only here
      cp.controlPlane.identity.endpoints,
      new ManualClock(),
      new Counting(new ManualClock()),
    );
    const real = cp.installation.password;
    const count = async (secret: string): Promise<number> => {
      hashes = 0;
      await assert.rejects(
        clients.authenticate(
          { client_id: cp.installation.appId, client_secret: secret },
          'https://management.azure.com',
          `10.9.9.${secret.length}`,
        ),
      );
      return hashes;
    };
    const samePrefix = await count(`${real.slice(0, 3)}${'x'.repeat(real.length - 3)}`);
    const otherPrefix = await count(`zz${'x'.repeat(real.length - 1)}`);
    assert.ok(samePrefix >= 1);
    assert.equal(samePrefix, otherPrefix);
  });
});
