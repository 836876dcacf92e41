// HIMDS request rules without sockets: headers, api-versions, the challenge and the token answer.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { AgentState } from '../identity/agent-state.js';
import { ChallengeStore } from './challenge-store.js';
import { handleHimdsRequest, type HimdsDependencies } from './himds-server.js';

const STATE: AgentState = {
  resourceId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.HybridCompute/machines/m1',
  resourceName: 'm1',
  resourceGroup: 'rg',
  subscriptionId: 's',
  tenantId: 't',
  location: 'local',
  vmId: 'vm',
  principalId: 'p',
  endpoint: 'https://cp',
  tags: { env: 'prod' },
  credentialExpiresOn: '2030-01-01T00:00:00Z',
};

function deps(dir: string): HimdsDependencies {
  const clock = { now: () => 1_700_000_000_000 };
  return {
    state: () => STATE,
    challenges: new ChallengeStore(dir, clock),
    token: (resource) =>
      Promise.resolve({ token: `tok-${resource}`, expiresAt: clock.now() + 3600_000 }),
    nowMs: clock.now,
  };
}

const TOKEN_URL = '/metadata/identity/oauth2/token?api-version=2020-06-01&resource=https://vault';

void test('header rules: Metadata: true required, forwarded requests refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'himds-'));
  try {
    const d = deps(dir);
    const get = (headers: Record<string, string>) =>
      handleHimdsRequest({ method: 'GET', url: TOKEN_URL, headers }, d);
    assert.equal((await get({})).status, 400);
    assert.equal((await get({ metadata: 'false' })).status, 400);
    assert.equal((await get({ metadata: 'true', 'x-forwarded-for': '10.0.0.1' })).status, 400);
    assert.equal((await get({ metadata: 'true', forwarded: 'for=10.0.0.1' })).status, 400);
    const bad = await handleHimdsRequest(
      {
        method: 'GET',
        url: '/metadata/identity/oauth2/token?api-version=2018-01-01&resource=x',
        headers: { metadata: 'true' },
      },
      d,
    );
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.body), /api-version/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('challenge then token: 401 with the realm path, then 200 with string expiries', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'himds-'));
  try {
    const d = deps(dir);
    const first = await handleHimdsRequest(
      { method: 'GET', url: TOKEN_URL, headers: { metadata: 'true' } },
      d,
    );
    assert.equal(first.status, 401);
    const realm = /^Basic realm=(\S+)$/.exec(first.headers?.['www-authenticate'] ?? '')?.[1] ?? '';
    const secret = readFileSync(realm, 'utf8');
    const second = await handleHimdsRequest(
      {
        method: 'GET',
        url: TOKEN_URL,
        headers: { metadata: 'true', authorization: `Basic ${secret}` },
      },
      d,
    );
    assert.equal(second.status, 200);
    assert.deepEqual(second.body, {
      access_token: 'tok-https://vault',
      expires_on: String(1_700_000_000 + 3600),
      expires_in: '3600',
      resource: 'https://vault',
      token_type: 'Bearer',
    });
    const reused = await handleHimdsRequest(
      {
        method: 'GET',
        url: TOKEN_URL,
        headers: { metadata: 'true', authorization: `Basic ${secret}` },
      },
      d,
    );
    assert.equal(reused.status, 401);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('instance metadata carries the machine facts and tags', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'himds-'));
  try {
    const answer = await handleHimdsRequest(
      {
        method: 'GET',
        url: '/metadata/instance?api-version=2020-06-01',
        headers: { metadata: 'true' },
      },
      deps(dir),
    );
    assert.equal(answer.status, 200);
    const compute = (answer.body as { compute: Record<string, unknown> }).compute;
    assert.equal(compute['resourceId'], STATE.resourceId);
    assert.deepEqual(compute['tagsList'], [{ name: 'env', value: 'prod' }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
