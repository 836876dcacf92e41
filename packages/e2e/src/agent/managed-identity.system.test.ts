// S6/S15/S16/S17 on the real layout (AZCMAGENT_ROOT=/) with real OS users: connect as root, HIMDS
// as the himds user, and an unmodified Azure SDK program getting a managed-identity token as
// root, as a himds-group member (works) and as an outsider (cannot read the challenge file).
// Runs only as root, alone; refuses when the real agent folders exist, and removes all it made.
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AZCMAGENT_BIN, runAzcmagent } from '@tether/agent/test-support/azcmagent-process';
import {
  createPrincipalWithSecret,
  createResourceGroup,
  type Principal,
} from '../arm/arm-fixtures.js';
import { startControlPlane, type ControlPlane } from '../harness/index.js';
import { CLIENTS_DIR } from '../harness/programs.js';

const ONBOARDING_ROLE = 'b64e21ea-ac4e-4cdf-9dc9-5b892992bee7';
const READER_ROLE = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';
const RG = 'servers';
const MACHINE = 'mi1';
const REAL_AGENT_DIRS = ['/var/opt/azcmagent', '/opt/azcmagent', '/var/lib/GuestConfig'];
const KEY = '/var/opt/azcmagent/certs/machine.key';

const present = REAL_AGENT_DIRS.filter((dir) => existsSync(dir));
const SKIP =
  process.geteuid?.() !== 0
    ? 'needs root: creates OS users and the real agent folders'
    : present.length > 0
      ? `refusing to run: ${present.join(', ')} already exist (a real agent?)`
      : false;

interface Account {
  name: string;
  uid: number;
  gid: number;
}

const suffix = randomBytes(3).toString('hex');
const created = { himdsUser: false, himdsGroup: false, users: [] as string[] };
let himdsAccount: Account;
let member: Account;
let outsider: Account;
let plane: ControlPlane;
let onboarder: Principal;
let shared: string; // a world-readable folder for the CA certificate and the clients' HOME
let himds: ChildProcess | undefined;
let himdsPort = 0;

function account(name: string): Account {
  const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
  return { name, uid, gid };
}

function groupExists(name: string): boolean {
  return spawnSync('getent', ['group', name]).status === 0;
}

function addUser(name: string, extra: string[]): Account {
  execFileSync('useradd', [
    '--system',
    '--no-create-home',
    '--shell',
    '/usr/sbin/nologin',
    ...extra,
    name,
  ]);
  created.users.push(name);
  return account(name);
}

/** 40342 as on a real server, unless something on this machine already holds it. */
function realPortFree(): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(40342, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

function startHimds(port: number): Promise<number> {
  const child = spawn(process.execPath, [AZCMAGENT_BIN, 'service', 'run', 'himds'], {
    env: {
      PATH: process.env.PATH,
      AZCMAGENT_ROOT: '/',
      AZCMAGENT_HIMDS_PORT: String(port),
      AZCMAGENT_HEARTBEAT_SECONDS: '2',
    },
    uid: himdsAccount.uid,
    gid: himdsAccount.gid,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  himds = child;
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`himds exited ${String(code)}: ${stderr}`)));
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const bound = /himds listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1];
      if (bound !== undefined) resolve(Number(bound));
    });
  });
}

async function stopHimds(): Promise<void> {
  const child = himds;
  himds = undefined;
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

type ClientAnswer =
  | { ok: true; machines: string[] }
  | {
      ok: false;
      stage: 'token' | 'list';
      error: { name?: string; statusCode?: number; message?: string };
    };

/** The SDK program as `who` (root when undefined), with its supplementary groups as at login. */
function runClient(who: Account | undefined): Promise<ClientAnswer> {
  const script = join(CLIENTS_DIR, 'agent-managed-identity.js');
  const input = JSON.stringify({ endpoint: plane.url, subscriptionId: plane.subscriptionId });
  const node = [process.execPath, script, input];
  const [file, ...args] =
    who === undefined
      ? node
      : ['setpriv', `--reuid=${who.uid}`, `--regid=${who.gid}`, '--init-groups', '--', ...node];
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: shared,
    NODE_EXTRA_CA_CERTS: join(shared, 'ca.crt'),
    IDENTITY_ENDPOINT: `http://localhost:${himdsPort}/metadata/identity/oauth2/token`,
    IMDS_ENDPOINT: `http://localhost:${himdsPort}`,
  };
  return new Promise((resolve, reject) => {
    execFile(file ?? '', args, { env, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error !== null) {
        reject(new Error(`client failed: ${error.message}\n${stderr}`));
        return;
      }
      resolve(JSON.parse(stdout) as ClientAnswer);
    });
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 20_000;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
      last = undefined;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`,
  );
}

void describe('managed identity on the real layout', { skip: SKIP }, () => {
  before(async () => {
    if (SKIP !== false) return;
    if (!groupExists('himds')) {
      execFileSync('groupadd', ['--system', 'himds']);
      created.himdsGroup = true;
    }
    if (spawnSync('id', ['himds']).status !== 0) {
      himdsAccount = addUser('himds', ['-g', 'himds']);
      created.users.pop(); // tracked on its own: it may have existed before the test
      created.himdsUser = true;
    } else {
      himdsAccount = account('himds');
    }
    member = addUser(`tether-m${suffix}`, ['--user-group', '-G', 'himds']);
    outsider = addUser(`tether-o${suffix}`, ['--user-group']);

    plane = await startControlPlane();
    await createResourceGroup(plane, RG);
    onboarder = await createPrincipalWithSecret(plane, 'onboarder');
    const assigned = await plane.admin.call(
      'PUT',
      `/subscriptions/${plane.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.Authorization/roleAssignments/${crypto.randomUUID()}?api-version=2022-04-01`,
      {
        body: {
          properties: {
            roleDefinitionId: `/subscriptions/${plane.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${ONBOARDING_ROLE}`,
            principalId: onboarder.id,
          },
        },
      },
    );
    assert.equal(assigned.status, 201, JSON.stringify(assigned.body));
    shared = mkdtempSync(join(tmpdir(), 'tether-mi-'));
    chmodSync(shared, 0o755);
    copyFileSync(plane.caCert, join(shared, 'ca.crt'));
    chmodSync(join(shared, 'ca.crt'), 0o644);
  });

  after(async () => {
    // Never clean up after a refusal: the folders and accounts would be someone else's.
    if (SKIP !== false) return;
    await stopHimds();
    await plane?.stop();
    if (shared !== undefined) rmSync(shared, { recursive: true, force: true });
    // Refused to start if any existed, so every one of them is ours.
    for (const dir of REAL_AGENT_DIRS) rmSync(dir, { recursive: true, force: true });
    for (const name of created.users) {
      spawnSync('userdel', [name]);
      if (groupExists(name)) spawnSync('groupdel', [name]);
    }
    if (created.himdsUser) spawnSync('userdel', ['himds']);
    if (created.himdsGroup && groupExists('himds')) spawnSync('groupdel', ['himds']);
    for (const name of [...created.users, ...(created.himdsUser ? ['himds'] : [])]) {
      assert.notEqual(spawnSync('id', [name]).status, 0, `test user ${name} was removed`);
    }
  });

  void test('connect as root with an Onboarding-only service principal', async () => {
    const connect = await runAzcmagent('/', [
      'connect',
      '--endpoint',
      plane.url,
      '--ca-cert',
      plane.caCert,
      '-t',
      plane.tenantId,
      '-s',
      plane.subscriptionId,
      '-g',
      RG,
      '-n',
      MACHINE,
      '-l',
      'westeurope',
      '-i',
      onboarder.appId,
      '-p',
      onboarder.secret,
    ]);
    assert.equal(connect.status, 0, connect.stderr);
  });

  void test('HIMDS refuses to start with an unsafe key file, saying why', async () => {
    const asHimds = { uid: himdsAccount.uid, gid: himdsAccount.gid };
    const env = { AZCMAGENT_HIMDS_PORT: '0' };
    try {
      chmodSync(KEY, 0o644);
      const loose = await runAzcmagent('/', ['service', 'run', 'himds'], { ...asHimds, env });
      assert.equal(loose.status, 9, loose.stderr);
      assert.match(loose.stderr, /machine key .*machine\.key has mode 0644, not 0600/);
      chmodSync(KEY, 0o600);
      chownSync(KEY, 0, 0);
      const rootOwned = await runAzcmagent('/', ['service', 'run', 'himds'], { ...asHimds, env });
      assert.equal(rootOwned.status, 9, rootOwned.stderr);
      assert.match(rootOwned.stderr, /is owned by uid 0, not himds/);
    } finally {
      chownSync(KEY, himdsAccount.uid, himdsAccount.gid);
      chmodSync(KEY, 0o600);
    }
    const asRoot = await runAzcmagent('/', ['service', 'run', 'himds'], { env });
    assert.equal(asRoot.status, 3, asRoot.stderr);
    assert.match(asRoot.stderr, /HIMDS must not run as root/);
  });

  void test('tokens for root and the himds group, not for others; Reader opens the listing', async () => {
    himdsPort = await startHimds((await realPortFree()) ? 40342 : 0);
    // HIMDS, unprivileged, writes its own log in the root-owned log folder (connect made the file).
    assert.match(readFileSync('/var/opt/azcmagent/log/himds.log', 'utf8'), /Z listening on http/);

    // By default the identity may only report its own status (S15): the listing is refused.
    for (const who of [undefined, member]) {
      const answer = await runClient(who);
      assert.equal(answer.ok, false, JSON.stringify(answer));
      assert.equal(answer.ok === false && answer.stage, 'list', JSON.stringify(answer));
      assert.equal(answer.ok === false && answer.error.statusCode, 403, JSON.stringify(answer));
    }
    // S16: the outsider is challenged but cannot read the file, so gets no token at all.
    const refused = await runClient(outsider);
    assert.equal(refused.ok === false && refused.stage, 'token', JSON.stringify(refused));
    assert.match(refused.ok ? '' : (refused.error.message ?? ''), /Unable to read the secret file/);

    const machine = await plane.admin.call(
      'GET',
      `/subscriptions/${plane.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.HybridCompute/machines/${MACHINE}?api-version=2024-07-10`,
    );
    const principalId = (machine.body['identity'] as { principalId?: string } | undefined)
      ?.principalId;
    assert.ok(typeof principalId === 'string', JSON.stringify(machine.body));
    const reader = await plane.admin.call(
      'PUT',
      `/subscriptions/${plane.subscriptionId}/providers/Microsoft.Authorization/roleAssignments/${crypto.randomUUID()}?api-version=2022-04-01`,
      {
        body: {
          properties: {
            roleDefinitionId: `/subscriptions/${plane.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${READER_ROLE}`,
            principalId,
          },
        },
      },
    );
    assert.equal(reader.status, 201, JSON.stringify(reader.body));

    for (const who of [undefined, member]) {
      const listed = await until(`the listing as ${who?.name ?? 'root'}`, async () => {
        const answer = await runClient(who);
        return answer.ok ? answer : undefined;
      });
      assert.deepEqual(listed.machines, [MACHINE]);
    }
    const still = await runClient(outsider);
    assert.equal(still.ok === false && still.stage, 'token', JSON.stringify(still));
  });
});
