// `tether login`, `account` and `logout` as a user runs them: what is saved (0600, with the
// secret), what is printed (never the secret), and bad input that saves nothing.
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import {
  CliTestKit,
  TEST_APP_ID,
  TEST_ENDPOINT,
  TEST_SUBSCRIPTION,
  TEST_TENANT,
} from '../client/testing/cli-test-kit.js';
import { selfSignedLocalhost } from '../client/testing/test-certificate.js';
import { register } from './login.js';

const SECOND_SUBSCRIPTION = '44444444-4444-4444-8444-444444444444';
const LOGIN = [
  'login',
  '--service-principal',
  '-u',
  TEST_APP_ID,
  '-p',
  'pa55word',
  '--tenant',
  TEST_TENANT,
  '--endpoint',
  `${TEST_ENDPOINT}/`,
];

void describe('tether login', () => {
  let kit: CliTestKit;
  beforeEach(async () => {
    kit = await CliTestKit.create(register);
    kit.transport.on('GET', /^\/subscriptions\/5555/, {
      status: 404,
      body: {
        error: {
          code: 'SubscriptionNotFound',
          message: "The subscription '55555555-5555-4555-8555-555555555555' could not be found.",
        },
      },
    });
    kit.transport.on('GET', '/subscriptions', {
      body: {
        value: [
          { subscriptionId: TEST_SUBSCRIPTION, displayName: 'Default', state: 'Enabled' },
          { subscriptionId: SECOND_SUBSCRIPTION, displayName: 'Lab', state: 'Enabled' },
        ],
      },
    });
  });
  afterEach(() => kit.dispose());

  void it('signs in, keeps the profile 0600 and prints the subscriptions as az does', async () => {
    const run = await kit.run(...LOGIN);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.doesNotMatch(run.stdout + run.stderr, /pa55word/);
    const accounts = JSON.parse(run.stdout) as {
      id: string;
      isDefault: boolean;
      user: unknown;
      tenantId: string;
    }[];
    assert.deepEqual(
      accounts.map((a) => [a.id, a.isDefault]),
      [
        [TEST_SUBSCRIPTION, true],
        [SECOND_SUBSCRIPTION, false],
      ],
    );
    assert.deepEqual(accounts[0]?.user, { name: TEST_APP_ID, type: 'servicePrincipal' });
    const token = kit.transport.requests[0];
    assert.equal(token?.url.href, `${TEST_ENDPOINT}/${TEST_TENANT}/oauth2/v2.0/token`);
    const profile = await kit.store.load();
    assert.equal(profile?.clientSecret, 'pa55word');
    assert.equal(profile?.endpoint, TEST_ENDPOINT);
    assert.equal(profile?.subscriptionId, TEST_SUBSCRIPTION);
    assert.equal(profile?.token?.accessToken, 'token-1');
    if (process.platform !== 'win32')
      assert.equal((await stat(kit.store.path)).mode & 0o777, 0o600);
  });

  void it('takes AZURE_* and TETHER_ENDPOINT from the environment', async () => {
    Object.assign(kit.env, {
      AZURE_CLIENT_ID: TEST_APP_ID,
      AZURE_CLIENT_SECRET: 'from-env',
      AZURE_TENANT_ID: 'contoso.example',
      TETHER_ENDPOINT: TEST_ENDPOINT,
    });
    const run = await kit.run(
      'login',
      '--service-principal',
      '--subscription',
      SECOND_SUBSCRIPTION,
      '-o',
      'table',
    );
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(run.stdout, /^Name\s+SubscriptionId\s+State\s+IsDefault\n/);
    assert.match(run.stdout, new RegExp(`Lab\\s+${SECOND_SUBSCRIPTION}\\s+Enabled\\s+True`));
    const profile = await kit.store.load();
    assert.equal(profile?.tenantId, 'contoso.example');
    assert.equal(profile?.subscriptionId, SECOND_SUBSCRIPTION);
  });

  void it('saves the CA certificate given with --ca-cert and uses it to connect', async () => {
    const pem = `${(await selfSignedLocalhost()).cert.trim()}\n`;
    const file = join(kit.configDir, '..', 'ca.pem');
    await writeFile(file, `comment line\n${pem}`);
    const run = await kit.run(...LOGIN, '--ca-cert', file);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.equal(kit.transportOptions[0]?.ca, pem);
    assert.equal((await kit.store.load())?.caCert, pem);
  });

  /** An unsigned JWT-shaped id token: the CLI only reads the name from it. */
  const idToken = (claims: Record<string, unknown>) =>
    `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`;

  void it('signs a person in with a device code, keeping the refresh token in the 0600 profile', async () => {
    const base = `/${TEST_TENANT}/oauth2/v2.0`;
    kit.transport.on('POST', `${base}/devicecode`, {
      body: {
        device_code: 'device-1',
        user_code: 'BCDF-GHJK',
        verification_uri: `${TEST_ENDPOINT}${base}/deviceauth`,
        expires_in: 900,
        interval: 5,
        message: `To sign in, use a web browser to open the page ${TEST_ENDPOINT}${base}/deviceauth and enter the code BCDF-GHJK to authenticate.`,
      },
    });
    let polls = 0;
    kit.transport.on('POST', `${base}/token`, () => {
      polls += 1;
      return polls < 3
        ? { status: 400, body: { error: 'authorization_pending' } }
        : {
            body: {
              access_token: 'person-token',
              refresh_token: 'refresh-1',
              id_token: idToken({ preferred_username: 'ada@contoso.example' }),
              expires_in: 3600,
              token_type: 'Bearer',
            },
          };
    });
    const run = await kit.run('login', '--tenant', TEST_TENANT, '--endpoint', TEST_ENDPOINT);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(run.stderr, /enter the code BCDF-GHJK/);
    assert.equal(polls, 3);
    const poll = kit.transport.requests.find((r) => r.path === `${base}/token`);
    assert.equal(
      (poll?.body as Record<string, string>)['grant_type'],
      'urn:ietf:params:oauth:grant-type:device_code',
    );
    const profile = await kit.store.load();
    assert.equal(profile?.refreshToken, 'refresh-1');
    assert.equal(profile?.userName, 'ada@contoso.example');
    assert.equal(profile?.clientSecret, '');
    assert.equal(profile?.token?.accessToken, 'person-token');
    if (process.platform !== 'win32')
      assert.equal((await stat(kit.store.path)).mode & 0o777, 0o600);
    const accounts = JSON.parse(run.stdout) as { user: unknown }[];
    assert.deepEqual(accounts[0]?.user, { name: 'ada@contoso.example', type: 'user' });

    // Once the access token is stale, the next command refreshes it and keeps the new refresh token.
    kit.clock.advance(2 * 3_600_000);
    kit.transport.on('POST', `${base}/token`, {
      body: { access_token: 'person-token-2', refresh_token: 'refresh-2', expires_in: 3600 },
    });
    const listed = await kit.run('account', 'list', '--subscriptions');
    assert.equal(listed.exitCode, 0, listed.stderr);
    const refreshed = kit.transport.requests.find(
      (r) => (r.body as Record<string, string> | undefined)?.['grant_type'] === 'refresh_token',
    );
    assert.equal((refreshed?.body as Record<string, string>)['refresh_token'], 'refresh-1');
    assert.equal((await kit.store.load())?.refreshToken, 'refresh-2');
  });

  void it("logout ends a person's sign-in at the control plane before forgetting the profile", async () => {
    await kit.store.save({
      endpoint: TEST_ENDPOINT,
      tenantId: TEST_TENANT,
      clientId: '04b07795-8ddb-461a-bbee-02f9e1bf7b46',
      clientSecret: '',
      refreshToken: 'refresh-9',
      userName: 'ada@contoso.example',
    });
    const revoke = `/${TEST_TENANT}/oauth2/v2.0/revoke`;
    kit.transport.on('POST', revoke, { status: 503, body: { error: 'temporarily_unavailable' } });
    const failed = await kit.run('logout');
    assert.equal(failed.exitCode, 1);
    assert.match(
      failed.stderr,
      /did not end the sign-in: HTTP 503\. The profile is kept; run 'tether logout --local-only'/,
    );
    assert.equal((await kit.store.load())?.refreshToken, 'refresh-9', 'kept when not revoked');

    kit.transport.on('POST', revoke, { body: {} });
    const done = await kit.run('logout');
    assert.equal(done.exitCode, 0, done.stderr);
    const sent = kit.transport.requests.filter((r) => r.path === revoke).at(-1);
    assert.deepEqual(sent?.body, {
      token: 'refresh-9',
      token_type_hint: 'refresh_token',
      client_id: '04b07795-8ddb-461a-bbee-02f9e1bf7b46',
    });
    assert.equal(await kit.store.load(), undefined);
  });

  void it('logout --local-only forgets a person without reaching the server, and says what that leaves', async () => {
    await kit.store.save({
      endpoint: TEST_ENDPOINT,
      tenantId: TEST_TENANT,
      clientId: '04b07795-8ddb-461a-bbee-02f9e1bf7b46',
      clientSecret: '',
      refreshToken: 'refresh-9',
    });
    const run = await kit.run('logout', '--local-only');
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(run.stderr, /WARNING: the sign-in was not ended at the control plane/);
    assert.equal(kit.transport.requests.length, 0);
    assert.equal(await kit.store.load(), undefined);
  });

  const refusals: [string, string[], RegExp][] = [
    [
      'a secret without --service-principal',
      LOGIN.filter((a) => a !== '--service-principal'),
      /-p\/--password sign in a service principal: add --service-principal/,
    ],
    [
      'no secret',
      LOGIN.filter((a) => a !== '-p' && a !== 'pa55word'),
      /-p\/--password is required \(or set AZURE_CLIENT_SECRET\)/,
    ],
    [
      'an app id that is not a GUID',
      LOGIN.map((a) => (a === TEST_APP_ID ? 'my-app' : a)),
      /-u\/--username 'my-app' is invalid\. Expected a GUID/,
    ],
    [
      'an http endpoint',
      LOGIN.map((a) => (a === `${TEST_ENDPOINT}/` ? 'http://tether.test' : a)),
      /--endpoint 'http:\/\/tether.test' is invalid\. .*https only/,
    ],
    [
      'a tenant with a slash',
      LOGIN.map((a) => (a === TEST_TENANT ? 'a/b' : a)),
      /-t\/--tenant 'a\/b' is invalid/,
    ],
    [
      'an unknown subscription',
      [...LOGIN, '--subscription', '55555555-5555-4555-8555-555555555555'],
      /\(SubscriptionNotFound\) The subscription '5555/,
    ],
    [
      'a CA file that is not a certificate',
      [...LOGIN, '--ca-cert', '/etc/hostname'],
      /--ca-cert '\/etc\/hostname' (holds no PEM certificate|cannot be read)/,
    ],
  ];
  for (const [name, args, message] of refusals) {
    void it(`refuses ${name} and saves nothing`, async () => {
      const run = await kit.run(...args);
      assert.notEqual(run.exitCode, 0);
      assert.match(run.stderr, message);
      assert.equal(await kit.store.load(), undefined);
    });
  }

  void it('keeps a --subscription it may not read, with a warning', async () => {
    kit.transport.on('GET', '/subscriptions', { body: { value: [] } });
    kit.transport.on('GET', `/subscriptions/${SECOND_SUBSCRIPTION}`, {
      status: 403,
      body: { error: { code: 'AuthorizationFailed', message: 'no read at the subscription' } },
    });
    const run = await kit.run(...LOGIN, '--subscription', SECOND_SUBSCRIPTION);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(
      run.stderr,
      /may not read subscription 4444.* \(AuthorizationFailed\); using it anyway/,
    );
    assert.equal((await kit.store.load())?.subscriptionId, SECOND_SUBSCRIPTION);
  });

  void it('reports refused credentials and keeps the previous profile', async () => {
    await kit.signIn({ clientSecret: 'old' });
    kit.transport.on('POST', /token$/, {
      status: 401,
      body: {
        error: 'invalid_client',
        error_description: 'AADSTS7000215: Invalid client secret provided.',
      },
    });
    const run = await kit.run(...LOGIN);
    assert.equal(run.exitCode, 1);
    assert.match(
      run.stderr,
      /^ERROR: signing in as .* failed: \(invalid_client\) AADSTS7000215: Invalid client secret provided\.\n$/,
    );
    assert.equal((await kit.store.load())?.clientSecret, 'old');
  });

  void it('warns when no subscription is visible and leaves the default unset', async () => {
    kit.transport.on('GET', '/subscriptions', { body: { value: [] } });
    const run = await kit.run(...LOGIN);
    assert.equal(run.exitCode, 0);
    assert.equal(run.stdout, '[]\n');
    assert.match(run.stderr, /WARNING: no default subscription/);
    assert.equal((await kit.store.load())?.subscriptionId, undefined);
  });

  void it('account show never prints the secret; logout forgets the profile', async () => {
    await kit.run(...LOGIN);
    const shown = await kit.run('account', 'show');
    assert.equal(shown.exitCode, 0);
    assert.doesNotMatch(shown.stdout, /pa55word|token-1/);
    assert.match(shown.stdout, new RegExp(TEST_SUBSCRIPTION));
    const raw = await readFile(kit.store.path, 'utf8');
    assert.match(raw, /pa55word/);
    assert.equal((await kit.run('logout')).exitCode, 0);
    assert.equal(await kit.store.load(), undefined);
    const again = await kit.run('logout');
    assert.equal(again.exitCode, 1);
    assert.match(again.stderr, /there is no saved profile/);
  });

  void it('account set checks and saves the default subscription', async () => {
    await kit.signIn();
    kit.transport.on('GET', `/subscriptions/${SECOND_SUBSCRIPTION}`, {
      body: { subscriptionId: SECOND_SUBSCRIPTION },
    });
    assert.equal(
      (await kit.run('account', 'set', '--subscription', SECOND_SUBSCRIPTION)).exitCode,
      0,
    );
    assert.equal((await kit.store.load())?.subscriptionId, SECOND_SUBSCRIPTION);
    const missing = await kit.run(
      'account',
      'set',
      '--subscription',
      '55555555-5555-4555-8555-555555555555',
    );
    assert.equal(missing.exitCode, 3);
    assert.equal((await kit.store.load())?.subscriptionId, SECOND_SUBSCRIPTION);
    const bad = await kit.run('account', 'set', '--subscription', 'lab');
    assert.equal(bad.exitCode, 2);
    assert.match(
      bad.stderr,
      /option '--subscription <id>' argument 'lab' is invalid\. Expected a GUID/,
    );
  });

  void it('keeps a second sign-in beside the first with --profile and switches with account use', async () => {
    const workSecret = 'w0rkpass';
    assert.equal((await kit.run(...LOGIN)).exitCode, 0);
    const work = await kit.run(
      ...LOGIN.map((arg) => (arg === 'pa55word' ? workSecret : arg)),
      '--profile',
      'work',
      '--subscription',
      SECOND_SUBSCRIPTION,
    );
    assert.equal(work.exitCode, 0, work.stderr);
    assert.equal((await kit.store.load())?.clientSecret, 'pa55word', 'the first is kept');
    assert.equal((await kit.store.named('work').load())?.clientSecret, workSecret);

    const listed = await kit.run('account', 'list');
    assert.equal(listed.exitCode, 0, listed.stderr);
    assert.doesNotMatch(listed.stdout, /pa55word|w0rkpass/);
    const entries = JSON.parse(listed.stdout) as { profile: string; isCurrent: boolean }[];
    assert.deepEqual(
      entries.map((e) => [e.profile, e.isCurrent]),
      [
        ['default', true],
        ['work', false],
      ],
    );

    kit.env['TETHER_PROFILE'] = 'work';
    const shownByEnvironment = JSON.parse((await kit.run('account', 'show')).stdout) as {
      name: string;
      id: string;
    };
    assert.deepEqual(
      [shownByEnvironment.name, shownByEnvironment.id],
      ['work', SECOND_SUBSCRIPTION],
    );
    delete kit.env['TETHER_PROFILE'];

    assert.equal((await kit.run('account', 'use', 'work')).exitCode, 0);
    const shown = JSON.parse((await kit.run('account', 'show')).stdout) as { name: string };
    assert.equal(shown.name, 'work');
    const flagWins = JSON.parse(
      (await kit.run('account', 'show', '--profile', 'default')).stdout,
    ) as {
      name: string;
    };
    assert.equal(flagWins.name, 'default');
  });

  void it('refuses an unknown or malformed profile name, changing nothing', async () => {
    await kit.run(...LOGIN);
    const unknown = await kit.run('account', 'use', 'lab');
    assert.equal(unknown.exitCode, 2);
    assert.match(unknown.stderr, /there is no saved profile 'lab' \(saved: default\)/);
    const malformed = await kit.run('account', 'show', '--profile', '../etc');
    assert.equal(malformed.exitCode, 2);
    assert.match(malformed.stderr, /--profile '\.\.\/etc' is not a profile name/);
    const missing = await kit.run('account', 'list', '--subscriptions', '--profile', 'lab');
    assert.equal(missing.exitCode, 1);
    assert.match(missing.stderr, /there is no saved profile 'lab'/);
    const shown = JSON.parse((await kit.run('account', 'show')).stdout) as { name: string };
    assert.equal(shown.name, 'default');
  });
});
