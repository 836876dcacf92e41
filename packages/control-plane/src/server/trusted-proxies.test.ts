// `--trusted-proxy`: behind a load balancer the client's address comes from X-Forwarded-For,
// but only when the connection comes from a listed address; the per-address sign-in limits
// then count each client apart. Bad values are refused with the flag named.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isTetherError } from '@tether/protocol';
import { TestControlPlane } from './testing/test-control-plane.js';
import { checkTrustedProxy } from './trusted-proxies.js';

void describe('trusted proxies', () => {
  void it('accepts addresses and prefixes, and refuses anything else naming the flag', () => {
    for (const good of ['10.0.0.5', '10.0.0.0/24', '::1', 'fd00::/8', '192.0.2.1/32']) {
      assert.equal(checkTrustedProxy(good), good);
    }
    for (const bad of ['haproxy', '10.0.0.0/33', '10.0.0.1/', '::1/129', '1.2.3.4/8/8', '']) {
      assert.throws(
        () => checkTrustedProxy(bad),
        (error: unknown) =>
          isTetherError(error) &&
          error.code === 'ERR_SERVER_CONFIG' &&
          error.message.includes('--trusted-proxy'),
        bad,
      );
    }
  });

  const wrongSecret = (plane: TestControlPlane, from: string, forwardedFor: string) =>
    plane.app.inject({
      method: 'POST',
      url: `/${plane.tenantId}/oauth2/v2.0/token`,
      remoteAddress: from,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-forwarded-for': forwardedFor,
      },
      payload: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: plane.installation.appId,
        client_secret: 'wrong',
        scope: 'https://management.azure.com/.default',
      }).toString(),
    });

  void describe('with the load balancer listed', () => {
    let plane: TestControlPlane;
    before(async () => {
      plane = await TestControlPlane.start(undefined, { trustedProxies: ['10.1.2.3'] });
    });
    after(() => plane.close());

    void it('counts failed sign-ins by the forwarded client address', async () => {
      for (let i = 0; i < 10; i++) {
        assert.equal((await wrongSecret(plane, '10.1.2.3', '203.0.113.1')).statusCode, 401);
      }
      assert.equal((await wrongSecret(plane, '10.1.2.3', '203.0.113.1')).statusCode, 429);
      // Another client behind the same load balancer is not held to the first one's failures.
      assert.equal((await wrongSecret(plane, '10.1.2.3', '203.0.113.2')).statusCode, 401);
    });

    void it('believes the header only from the load balancer', async () => {
      // A direct caller naming someone else's address is counted as itself.
      for (let i = 0; i < 10; i++) {
        assert.equal((await wrongSecret(plane, '198.51.100.7', '203.0.113.50')).statusCode, 401);
      }
      assert.equal((await wrongSecret(plane, '198.51.100.7', '203.0.113.51')).statusCode, 429);
    });
  });

  void it('without one, X-Forwarded-For is ignored', async () => {
    const plane = await TestControlPlane.start();
    try {
      for (let i = 0; i < 10; i++) {
        assert.equal((await wrongSecret(plane, '10.1.2.3', `203.0.113.${i}`)).statusCode, 401);
      }
      assert.equal((await wrongSecret(plane, '10.1.2.3', '203.0.113.99')).statusCode, 429);
    } finally {
      await plane.close();
    }
  });
});
