// The `tether` client CLI as a user runs it: the real compiled binary, a real control plane
// started by the harness, a private profile directory, and no NODE_EXTRA_CA_CERTS — the CA is
// trusted only through `--ca-cert` / TETHER_CA_CERT.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startControlPlane, type ControlPlane } from '../harness/index.js';
import { TETHER_BIN } from '../harness/programs.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const ONBOARDING = 'Azure Connected Machine Onboarding';

/** The parent's environment without anything that would sign in or trust a CA for the CLI. */
function cleanEnvironment(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(AZURE_|TETHER_|NODE_EXTRA_CA_CERTS$)/.test(name)) env[name] = value;
  }
  return { ...env, ...extra };
}

function tether(args: readonly string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [TETHER_BIN, ...args],
      { env: cleanEnvironment(env), timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function json<T>(run: Run): T {
  assert.equal(run.code, 0, `exit ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}

void describe('tether client CLI against a real control plane', () => {
  let plane: ControlPlane;
  let root = '';
  let admin: Record<string, string>;
  let rgScope = '';
  let onboarding = { appId: '', password: '' };
  let groupId = '';
  const as = (env: Record<string, string>, ...args: string[]): Promise<Run> => tether(args, env);

  before(async () => {
    plane = await startControlPlane();
    root = await mkdtemp(join(tmpdir(), 'tether-cli-e2e-'));
    admin = { TETHER_CONFIG_DIR: join(root, 'admin'), HOME: join(root, 'home') };
    rgScope = `/subscriptions/${plane.subscriptionId}/resourceGroups/cli-e2e`;
  });

  after(async () => {
    await plane.stop();
    await rm(root, { recursive: true, force: true });
  });

  void it('refuses to sign in to an untrusted server and says how to trust it', async () => {
    const run = await as(
      admin,
      'login',
      '--service-principal',
      '-u',
      plane.appId,
      '-p',
      plane.password,
      '--tenant',
      plane.tenantId,
      '--endpoint',
      plane.url,
    );
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /TLS certificate of https:\/\/127\.0\.0\.1:\d+ is not trusted .*--ca-cert FILE/,
    );
    await assert.rejects(stat(join(admin['TETHER_CONFIG_DIR'] ?? '', 'profile.json')));
  });

  void it('signs in with --ca-cert and keeps the profile private, printing no secret', async () => {
    const run = await as(
      admin,
      'login',
      '--service-principal',
      '-u',
      plane.appId,
      '-p',
      plane.password,
      '--tenant',
      plane.tenantId,
      '--endpoint',
      plane.url,
      '--ca-cert',
      plane.caCert,
    );
    const accounts = json<{ id: string; isDefault: boolean }[]>(run);
    assert.deepEqual(
      accounts.map((a) => [a.id, a.isDefault]),
      [[plane.subscriptionId, true]],
    );
    assert.ok(!run.stdout.includes(plane.password) && !run.stderr.includes(plane.password));
    const directory = admin['TETHER_CONFIG_DIR'] ?? '';
    assert.equal((await stat(directory)).mode & 0o777, 0o700);
    assert.equal((await stat(join(directory, 'profile.json'))).mode & 0o777, 0o600);
    const shown = await as(admin, 'account', 'show');
    assert.ok(!shown.stdout.includes(plane.password));
  });

  void it('creates and lists resource groups as az does', async () => {
    const created = json<{ name: string; location: string; tags: Record<string, string> }>(
      await as(admin, 'group', 'create', '-n', 'cli-e2e', '-l', 'westeurope', '--tags', 'env=test'),
    );
    assert.deepEqual(
      [created.name, created.location, created.tags],
      ['cli-e2e', 'westeurope', { env: 'test' }],
    );
    const table = await as(admin, 'group', 'list', '-o', 'table');
    assert.match(table.stdout, /^Name\s+Location\s+Status\n/);
    assert.match(table.stdout, /\ncli-e2e\s+westeurope\s+Succeeded\n/);
  });

  void it('sp create-for-rbac prints the new credentials and assigns the role', async () => {
    const run = await as(
      admin,
      'sp',
      'create-for-rbac',
      '-n',
      'cli-e2e-onboarding',
      '--role',
      ONBOARDING,
      '--scopes',
      rgScope,
    );
    const created = json<{ appId: string; displayName: string; password: string; tenant: string }>(
      run,
    );
    assert.deepEqual(Object.keys(created).sort(), ['appId', 'displayName', 'password', 'tenant']);
    assert.equal(created.tenant, plane.tenantId);
    assert.match(run.stderr, /credentials that you must protect/);
    onboarding = { appId: created.appId, password: created.password };
    const assignments = json<{ principalName: string; roleDefinitionName: string }[]>(
      await as(admin, 'role', 'assignment', 'list', '-g', 'cli-e2e'),
    );
    assert.deepEqual(
      assignments.map((a) => [a.principalName, a.roleDefinitionName]),
      [[onboarding.appId, ONBOARDING]],
    );
  });

  void it('access show flags the inherited Owner as an indirect administrator, not the onboarding principal', async () => {
    const entries = json<
      {
        displayName: string;
        roleName: string;
        inherited: boolean;
        indirectAdministrator: boolean;
      }[]
    >(await as(admin, 'access', 'show', '-g', 'cli-e2e'));
    const owner = entries.find((e) => e.roleName === 'Owner');
    assert.deepEqual([owner?.inherited, owner?.indirectAdministrator], [true, true]);
    const onboard = entries.find((e) => e.displayName === 'cli-e2e-onboarding');
    assert.deepEqual([onboard?.roleName, onboard?.indirectAdministrator], [ONBOARDING, false]);
    const table = await as(admin, 'access', 'show', '-g', 'cli-e2e', '-o', 'table');
    assert.match(table.stdout, /IndirectAdmin/);
    assert.match(table.stdout, /can deploy extensions, which run as root/);
  });

  void it('a role given to a group reaches its members', async () => {
    groupId = json<{ id: string }>(
      await as(admin, 'ad', 'group', 'create', '--display-name', 'cli-e2e-admins'),
    ).id;
    assert.equal(
      (
        await as(
          admin,
          'ad',
          'group',
          'member',
          'add',
          '--group',
          'cli-e2e-admins',
          '--member-id',
          onboarding.appId,
        )
      ).code,
      0,
    );
    const assigned = json<{ principalId: string; roleDefinitionName: string }>(
      await as(
        admin,
        'role',
        'assignment',
        'create',
        '--assignee',
        groupId,
        '--role',
        'Azure Connected Machine Resource Administrator',
        '--scope',
        rgScope,
      ),
    );
    assert.deepEqual(
      [assigned.principalId, assigned.roleDefinitionName],
      [groupId, 'Azure Connected Machine Resource Administrator'],
    );
    const entries = json<
      { displayName: string; viaGroup: string | null; indirectAdministrator: boolean }[]
    >(await as(admin, 'access', 'show', '--scope', rgScope));
    const viaGroup = entries.find(
      (e) => e.displayName === 'cli-e2e-onboarding' && e.viaGroup !== null,
    );
    assert.equal(viaGroup?.viaGroup, groupId);
    assert.equal(viaGroup?.indirectAdministrator, true);
    assert.equal(
      (
        await as(
          admin,
          'ad',
          'group',
          'member',
          'remove',
          '-g',
          groupId,
          '--member-id',
          onboarding.appId,
        )
      ).code,
      0,
    );
  });

  void it('works from environment variables alone, and shows a denied write plainly', async () => {
    const onboarder = {
      TETHER_CONFIG_DIR: join(root, 'onboarder'),
      HOME: join(root, 'home'),
      AZURE_CLIENT_ID: onboarding.appId,
      AZURE_CLIENT_SECRET: onboarding.password,
      AZURE_TENANT_ID: plane.tenantId,
      AZURE_SUBSCRIPTION_ID: plane.subscriptionId,
      TETHER_ENDPOINT: plane.url,
      TETHER_CA_CERT: plane.caCert,
    };
    assert.deepEqual(json(await as(onboarder, 'machine', 'list', '-g', 'cli-e2e')), []);
    const denied = await as(onboarder, 'group', 'create', '-n', 'not-mine', '-l', 'westeurope');
    assert.equal(denied.code, 1);
    assert.match(
      denied.stderr,
      /^ERROR: \(AuthorizationFailed\) .*Microsoft\.Resources\/subscriptions\/resourceGroups\/write/,
    );
    await assert.rejects(
      stat(join(onboarder.TETHER_CONFIG_DIR, 'profile.json')),
      'environment credentials are not saved',
    );
    const events = json<
      { caller: string; status: { value: string }; operationName: { value: string } }[]
    >(await as(admin, 'activity', 'list', '--status', 'Failed', '--caller', onboarding.appId));
    assert.ok(
      events.some(
        (e) => e.operationName.value === 'Microsoft.Resources/subscriptions/resourceGroups/write',
      ),
    );
  });

  void it('credential reset replaces the secret', async () => {
    const reset = json<{ appId: string; password: string }>(
      await as(admin, 'sp', 'credential', 'reset', '--id', onboarding.appId),
    );
    assert.equal(reset.appId, onboarding.appId);
    assert.notEqual(reset.password, onboarding.password);
    const user = { TETHER_CONFIG_DIR: join(root, 'user'), HOME: join(root, 'home') };
    const login = (secret: string) =>
      as(
        user,
        'login',
        '--service-principal',
        '-u',
        onboarding.appId,
        '-p',
        secret,
        '--tenant',
        plane.tenantId,
        '--endpoint',
        plane.url,
        '--ca-cert',
        plane.caCert,
        '--subscription',
        plane.subscriptionId,
      );
    const old = await login(onboarding.password);
    assert.equal(old.code, 1);
    assert.match(old.stderr, /\(invalid_client\)/);
    assert.equal((await login(reset.password)).code, 0);
    assert.deepEqual(json(await as(user, 'machine', 'list', '-g', 'cli-e2e')), []);
  });

  void it('lists, shows and deletes machines', async () => {
    const put = await plane.admin.call(
      'PUT',
      `${rgScope}/providers/Microsoft.HybridCompute/machines/web-01?api-version=2024-07-10`,
      {
        body: { location: 'westeurope' },
      },
    );
    assert.ok(put.status === 200 || put.status === 201, JSON.stringify(put.body));
    const table = await as(admin, 'machine', 'list', '-g', 'cli-e2e', '-o', 'table');
    assert.match(table.stdout, /\nweb-01\s+cli-e2e\s+westeurope\s/);
    const shown = json<{ name: string }>(
      await as(admin, 'machine', 'show', '-n', 'web-01', '-g', 'cli-e2e'),
    );
    assert.equal(shown.name, 'web-01');
    const unconfirmed = await as(admin, 'machine', 'delete', '-n', 'web-01', '-g', 'cli-e2e');
    assert.equal(unconfirmed.code, 2);
    assert.equal(
      (await as(admin, 'machine', 'delete', '-n', 'web-01', '-g', 'cli-e2e', '--yes')).code,
      0,
    );
    const gone = await as(admin, 'machine', 'show', '-n', 'web-01', '-g', 'cli-e2e');
    assert.equal(gone.code, 3);
    assert.match(gone.stderr, /^ERROR: \(\w+\) /);
  });

  void it('refuses bad input with exit 2 and changes nothing', async () => {
    const before = json<unknown[]>(await as(admin, 'role', 'assignment', 'list', '--all'));
    const cases: [string[], RegExp][] = [
      [
        [
          'role',
          'assignment',
          'create',
          '--assignee',
          'someone',
          '--role',
          'Reader',
          '--scope',
          rgScope,
        ],
        /--assignee 'someone' is not an appId/,
      ],
      [
        ['role', 'assignment', 'create', '--assignee', onboarding.appId, '--role', 'Reader'],
        /pass --scope/,
      ],
      [
        [
          'role',
          'assignment',
          'create',
          '--assignee',
          onboarding.appId,
          '--role',
          'Reader',
          '--scope',
          'subscriptions/x',
        ],
        /must start with '\/'/,
      ],
      [['group', 'create', '-n', 'bad/name', '-l', 'westeurope'], /A resource group name is 1-90/],
      [['group', 'list', '-o', 'xml'], /Allowed values: json, table/],
    ];
    for (const [args, message] of cases) {
      const run = await as(admin, ...args);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message);
    }
    assert.deepEqual(
      json<unknown[]>(await as(admin, 'role', 'assignment', 'list', '--all')),
      before,
    );
  });

  void it('keeps working across a server restart with the cached token', async () => {
    await plane.restart();
    const groups = json<{ name: string }[]>(await as(admin, 'group', 'list'));
    assert.ok(groups.some((g) => g.name === 'cli-e2e'));
  });

  void it('deletes what it created and logs out', async () => {
    assert.equal((await as(admin, 'sp', 'delete', '--id', onboarding.appId)).code, 0);
    assert.equal((await as(admin, 'ad', 'group', 'delete', '-g', groupId)).code, 0);
    assert.equal((await as(admin, 'group', 'delete', '-n', 'cli-e2e', '--yes')).code, 0);
    assert.equal(json<unknown>(await as(admin, 'group', 'exists', '-n', 'cli-e2e')), false);
    assert.equal((await as(admin, 'logout')).code, 0);
    const after = await as(admin, 'group', 'list');
    assert.equal(after.code, 1);
    assert.match(after.stderr, /not logged in/);
  });
});

void describe('tether --version', () => {
  void it('prints the package version for --version and -v, as azcmagent version does', async () => {
    const pkg = JSON.parse(
      await readFile(new URL('../../../control-plane/package.json', import.meta.url), 'utf8'),
    ) as { version: string };
    for (const flag of ['--version', '-v']) {
      const run = await tether([flag], {});
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout, `tether version ${pkg.version}\n`);
    }
  });
});
