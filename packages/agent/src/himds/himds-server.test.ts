// HIMDS request rules without sockets: headers, api-versions, the challenge and the token answer.
import assert from 'node:assert/strict';
import { Agent, get as httpGet } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { AgentState } from '../identity/agent-state.js';
import { ChallengeStore, CHALLENGE_LIMITS } from './challenge-store.js';
import { GoalStateNotices, MAX_WAITERS_PER_SERVICE } from './goal-state-notices.js';
import { createHimdsServer, handleHimdsRequest, type HimdsDependencies } from './himds-server.js';

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
      handleHimdsRequest(
        { method: 'GET', url: TOKEN_URL, headers: { host: '127.0.0.1:40342', ...headers } },
        d,
      );
    assert.equal((await get({})).status, 400);
    assert.equal((await get({ metadata: 'false' })).status, 400);
    assert.equal((await get({ metadata: 'true', 'x-forwarded-for': '10.0.0.1' })).status, 400);
    assert.equal((await get({ metadata: 'true', forwarded: 'for=10.0.0.1' })).status, 400);
    const bad = await handleHimdsRequest(
      {
        method: 'GET',
        url: '/metadata/identity/oauth2/token?api-version=2018-01-01&resource=x',
        headers: { host: 'localhost:40342', metadata: 'true' },
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
      { method: 'GET', url: TOKEN_URL, headers: { host: 'localhost:40342', metadata: 'true' } },
      d,
    );
    assert.equal(first.status, 401);
    const realm = /^Basic realm=(\S+)$/.exec(first.headers?.['www-authenticate'] ?? '')?.[1] ?? '';
    const secret = readFileSync(realm, 'utf8');
    const second = await handleHimdsRequest(
      {
        method: 'GET',
        url: TOKEN_URL,
        headers: { host: 'localhost:40342', metadata: 'true', authorization: `Basic ${secret}` },
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
        headers: { host: 'localhost:40342', metadata: 'true', authorization: `Basic ${secret}` },
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
        headers: { host: 'localhost:40342', metadata: 'true' },
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

void test('only loopback Host names are answered, so a DNS-rebinding page reads nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'himds-'));
  try {
    const d = deps(dir);
    const instance = (host: string | undefined) =>
      handleHimdsRequest(
        {
          method: 'GET',
          url: '/metadata/instance?api-version=2020-06-01',
          headers: { metadata: 'true', ...(host === undefined ? {} : { host }) },
        },
        d,
      );
    for (const host of ['localhost', 'LOCALHOST:40342', '127.0.0.1:40342', '[::1]:40342']) {
      assert.equal((await instance(host)).status, 200, host);
    }
    for (const host of [
      undefined,
      'evil.example:40342',
      '127.0.0.1.nip.io:40342',
      'localhost.evil.example',
      '',
    ]) {
      const answer = await instance(host);
      assert.equal(answer.status, 400, String(host));
      assert.match(JSON.stringify(answer.body), /only requests addressed to localhost/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('a caller past its share of challenges gets 429 with Retry-After, others still get theirs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'himds-'));
  try {
    const d = deps(dir);
    const ask = (uid: number) =>
      handleHimdsRequest(
        {
          method: 'GET',
          url: TOKEN_URL,
          headers: { host: 'localhost', metadata: 'true' },
          callerUid: () => uid,
        },
        d,
      );
    let refused;
    for (let i = 0; i < CHALLENGE_LIMITS.pressure + CHALLENGE_LIMITS.perCaller + 1; i++) {
      const answer = await ask(4242);
      if (answer.status === 429) {
        refused = answer;
        break;
      }
      assert.equal(answer.status, 401);
    }
    assert.equal(refused?.status, 429, 'the flood is cut off');
    assert.equal(refused.headers?.['retry-after'], '5');
    assert.match(JSON.stringify(refused.body), /uid 4242 already holds 32 unanswered challenges/);
    assert.equal((await ask(1000)).status, 401, 'another account still gets a challenge');
    assert.ok(
      readdirSync(dir).length <= CHALLENGE_LIMITS.pressure + CHALLENGE_LIMITS.perCaller + 2,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('over a real socket, the flooding account is named from the kernel socket table', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'himds-'));
  const server = createHimdsServer(deps(dir));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const get = () =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = httpGet(
        { host: '127.0.0.1', port, path: TOKEN_URL, headers: { metadata: 'true' }, agent },
        (response) => {
          let body = '';
          response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
        },
      );
      request.on('error', reject);
    });
  try {
    let last = { status: 0, body: '' };
    for (let i = 0; i <= CHALLENGE_LIMITS.pressure + CHALLENGE_LIMITS.perCaller; i++)
      last = await get();
    assert.equal(last.status, 429);
    assert.match(last.body, new RegExp(`uid ${process.geteuid?.() ?? -1} already holds`));
  } finally {
    agent.destroy();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('goal-state notices: counters only, the same header rules, bad queries refused, asks held bounded', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'himds-'));
  try {
    const notices = new GoalStateNotices(0);
    const d = { ...deps(dir), notices };
    const ask = (url: string, headers: Record<string, string> = {}, signal?: AbortSignal) =>
      handleHimdsRequest(
        {
          method: 'GET',
          url,
          headers: { host: '127.0.0.1:40342', metadata: 'true', ...headers },
          ...(signal === undefined ? {} : { signal }),
        },
        d,
      );
    const path = '/agent/goalStateNotices';
    assert.deepEqual(await ask(`${path}?service=extensions`), {
      status: 200,
      body: { announced: false, sequence: 0 },
    });
    assert.equal((await ask(`${path}?service=extensions`, { metadata: 'no' })).status, 400);
    assert.equal((await ask(`${path}?service=extensions`, { host: 'evil.example' })).status, 400);
    assert.equal(
      (await ask(`${path}?service=extensions`, { 'x-forwarded-for': '10.0.0.1' })).status,
      400,
    );
    for (const query of [
      '',
      'service=other',
      'service=extensions&after=-1',
      'service=extensions&wait=1.5',
      'service=extensions&after=1e3',
    ]) {
      const answer = await ask(`${path}?${query}`);
      assert.equal(answer.status, 400, query);
      assert.match(JSON.stringify(answer.body), /"invalid_request"/);
    }
    const channel = {};
    notices.hello(channel, ['extensions']);
    // Announced and unchanged since what the asker saw: held, here up to the 300 s cap.
    const controllers = Array.from(
      { length: MAX_WAITERS_PER_SERVICE },
      () => new AbortController(),
    );
    const held = controllers.map((c) =>
      ask(`${path}?service=extensions&after=1&wait=100000`, {}, c.signal),
    );
    assert.equal(notices.held('extensions'), MAX_WAITERS_PER_SERVICE);
    const refused = await ask(`${path}?service=extensions&after=1&wait=10`);
    assert.equal(refused.status, 429);
    assert.equal(refused.headers?.['retry-after'], '5');
    notices.changed(channel, 'extensions');
    for (const answer of await Promise.all(held)) {
      assert.deepEqual(answer, { status: 200, body: { announced: true, sequence: 2 } });
    }
    // A caller that goes away frees its place.
    const gone = new AbortController();
    const abandoned = ask(`${path}?service=extensions&after=2&wait=300`, {}, gone.signal);
    assert.equal(notices.held('extensions'), 1);
    gone.abort();
    await abandoned;
    assert.equal(notices.held('extensions'), 0);
    // Without a board (an agent that has none), the endpoint is not found.
    assert.equal(
      (
        await handleHimdsRequest(
          {
            method: 'GET',
            url: `${path}?service=extensions`,
            headers: { host: 'localhost', metadata: 'true' },
          },
          deps(dir),
        )
      ).status,
      404,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
