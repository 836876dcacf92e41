// `tether login` for a person against a real control plane: the built CLI prints the page and
// code, the sign-in page is driven over HTTP as a browser would, and the saved 0600 profile then
// runs commands as that person, refused until they hold a role.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runNodeClient, startControlPlane, waitFor, type ControlPlane } from '../harness/index.js';
import { TETHER_BIN } from '../harness/programs.js';

const READER_ROLE_ID = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';
const USER = 'grace@contoso.example';
const PASSWORD = 'nanoseconds are thirty centimetres';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

void describe('tether login as a person', () => {
  let plane: ControlPlane;
  let root: string;
  let env: NodeJS.ProcessEnv;
  let userId: string;
  before(async () => {
    plane = await startControlPlane();
    root = await mkdtemp(join(tmpdir(), 'tether-login-person-'));
    env = {
      PATH: process.env['PATH'] ?? '',
      HOME: join(root, 'home'),
      TETHER_CONFIG_DIR: join(root, 'config'),
    };
    const created = await plane.admin.call('POST', '/v1.0/users', {
      body: {
        displayName: 'Grace Hopper',
        userPrincipalName: USER,
        passwordProfile: { password: PASSWORD },
      },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    userId = String(created.body['id']);
  });
  after(async () => {
    await plane.stop();
    await rm(root, { recursive: true, force: true });
  });

  /** Runs the built CLI; `onStderr` sees its error output as it comes. */
  const tether = (args: string[], onStderr?: (text: string) => void): Promise<Run> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [TETHER_BIN, ...args], { env });
      let stdout = '';
      let stderr = '';
      const timer = setTimeout(() => child.kill(), 60_000);
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
        onStderr?.(stderr);
      });
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? -1, stdout, stderr });
      });
    });

  void it('signs in with the code shown, keeps a 0600 profile, and commands run as the person', async () => {
    let shown = '';
    const login = tether(
      ['login', '--tenant', plane.tenantId, '--endpoint', plane.url, '--ca-cert', plane.caCert],
      (text) => (shown = text),
    );
    const [, page, code] = await waitFor(
      'the sign-in instructions',
      () => /open the page (\S+) and enter the code ([A-Z]{4}-[A-Z]{4})/.exec(shown) ?? undefined,
    );
    const entered = await runNodeClient<{ postStatus: number }>(
      'sign-in-page-driver',
      [page ?? ''],
      plane.clientEnv({
        TETHER_SIGN_IN_USER: USER,
        TETHER_SIGN_IN_PASSWORD: PASSWORD,
        TETHER_SIGN_IN_CODE: code ?? '',
      }),
    );
    assert.equal(entered.postStatus, 200, JSON.stringify(entered));
    const done = await login;
    assert.equal(done.code, 0, done.stderr);
    // No role yet, so no subscription is visible to choose as the default.
    assert.match(done.stderr, /no default subscription/);
    const file = join(root, 'config', 'profile.json');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const profile = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    assert.equal(profile['userName'], USER);
    assert.match(String(profile['refreshToken']), /^[A-Za-z0-9_-]{43}$/);
    assert.ok(!JSON.stringify(profile).includes(PASSWORD));

    const refused = await tether(['machine', 'list', '--subscription', plane.subscriptionId]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /AuthorizationFailed/);
    assert.match(refused.stderr, new RegExp(USER.replace(/\./g, '\\.')));

    const assigned = await plane.admin.call(
      'PUT',
      `/subscriptions/${plane.subscriptionId}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?api-version=2022-04-01`,
      {
        body: {
          properties: {
            roleDefinitionId: `/subscriptions/${plane.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${READER_ROLE_ID}`,
            principalId: userId,
            principalType: 'User',
          },
        },
      },
    );
    assert.equal(assigned.status, 201, JSON.stringify(assigned.body));
    const listed = await tether(['machine', 'list', '--subscription', plane.subscriptionId]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(JSON.parse(listed.stdout), []);
  });
});
