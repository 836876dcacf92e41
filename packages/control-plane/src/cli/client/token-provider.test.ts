// Client-credentials sign-in: what is sent to the token endpoint, the cache, and refusals.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../clock.js';
import { CliError } from './cli-error.js';
import { FakeTransport } from './testing/fake-transport.js';
import type { CachedToken } from './profile-store.js';
import { TokenProvider } from './token-provider.js';

const CREDENTIALS = {
  endpoint: 'https://tether.test',
  tenantId: 'contoso',
  clientId: '33333333-3333-4333-8333-333333333333',
  clientSecret: 's3cret',
};

function provider(transport: FakeTransport, clock: ManualClock) {
  const saved: CachedToken[] = [];
  const tokens = new TokenProvider(CREDENTIALS, transport, clock, {
    load: () => saved.at(-1),
    save: (token) => {
      saved.push(token);
      return Promise.resolve();
    },
  });
  return { tokens, saved };
}

void describe('token provider', () => {
  void it('asks the tenant token endpoint for an ARM token with client credentials', async () => {
    const transport = new FakeTransport();
    const clock = new ManualClock();
    const { tokens, saved } = provider(transport, clock);
    assert.equal(await tokens.accessToken(), 'token-1');
    const [request] = transport.requests;
    assert.equal(request?.url.href, 'https://tether.test/contoso/oauth2/v2.0/token');
    assert.deepEqual(request?.body, {
      grant_type: 'client_credentials',
      client_id: CREDENTIALS.clientId,
      client_secret: 's3cret',
      scope: 'https://management.azure.com/.default',
    });
    assert.deepEqual(saved, [{ accessToken: 'token-1', expiresOn: clock.now() + 3_600_000 }]);
  });

  void it('reuses the cached token until five minutes before it expires', async () => {
    const transport = new FakeTransport();
    const clock = new ManualClock();
    const { tokens } = provider(transport, clock);
    await tokens.accessToken();
    clock.advance(54 * 60_000);
    assert.equal(await tokens.accessToken(), 'token-1');
    clock.advance(2 * 60_000);
    assert.equal(await tokens.accessToken(), 'token-2');
    assert.equal(await tokens.accessToken(true), 'token-3', 'fresh skips the cache');
  });

  void it('reports a refused sign-in with the OAuth error and description', async () => {
    const transport = new FakeTransport().on('POST', /token$/, {
      status: 401,
      body: { error: 'invalid_client', error_description: 'The client secret is wrong.' },
    });
    const { tokens, saved } = provider(transport, new ManualClock());
    await assert.rejects(tokens.accessToken(), (error: unknown) => {
      assert.ok(error instanceof CliError);
      assert.equal(error.code, 'ERR_AUTHENTICATION');
      assert.match(
        error.message,
        /signing in as 3333.* in tenant contoso failed: \(invalid_client\) The client secret is wrong\./,
      );
      return true;
    });
    assert.equal(saved.length, 0);
  });

  void it('refuses an answer without a token', async () => {
    const transport = new FakeTransport().on('POST', /token$/, { body: { token_type: 'Bearer' } });
    const { tokens } = provider(transport, new ManualClock());
    await assert.rejects(tokens.accessToken(), /without an access_token/);
  });
});
