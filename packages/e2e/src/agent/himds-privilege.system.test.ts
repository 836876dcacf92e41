// The himds account cannot change what root trusts. A real agent is connected as root under a
// temporary root with a throwaway account as its himds user; HIMDS runs as that account. Acting
// as it, the test tries to change everything root's services rely on (the CA, the local
// controls, the trusted publishers, the machine's state, root's status files), plants a CA of
// its own where earlier versions kept it, and checks root still verifies the control plane with
// the real CA; a CA that turns out to be changeable stops the extension service. It reads root's
// journal of local changes, which it cannot change, and reports it. Root, alone.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdtempSync,
  statSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { agentPaths, type AgentPaths } from '@tether/agent/paths';
import { AZCMAGENT_BIN, runAzcmagent } from '@tether/agent/test-support/azcmagent-process';
import { makeTestTls } from '@tether/agent/test-support/test-tls';
import { createResourceGroup } from '../arm/arm-fixtures.js';
import { readServiceStatus } from '@tether/agent/himds/service-status';
import { startControlPlane, waitFor, type ControlPlane } from '../harness/index.js';

const SKIP = process.geteuid?.() !== 0 ? 'needs root: creates an OS user and connects' : false;
const RG = 'privilege';
const user = `thimds${randomBytes(3).toString('hex')}`;
let uid = 0;
let gid = 0;
let plane: ControlPlane;
let root: string;
let paths: AgentPaths;
let env: Record<string, string>;
const children: ChildProcess[] = [];

before(async () => {
  if (SKIP !== false) return;
  execFileSync('useradd', [
    '--system',
    '--no-create-home',
    '--user-group',
    '--shell',
    '/usr/sbin/nologin',
    user,
  ]);
  uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
  gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
  plane = await startControlPlane();
  await createResourceGroup(plane, RG);
  root = mkdtempSync(join(tmpdir(), 'azcmagent-privilege-'));
  chmodSync(root, 0o755); // the himds account must reach its folders inside
  paths = agentPaths(root);
  env = { AZCMAGENT_HIMDS_USER: user };
  const connect = await runAzcmagent(
    root,
    [
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
      'm1',
      '-i',
      plane.appId,
      '-p',
      plane.password,
    ],
    { env },
  );
  assert.equal(connect.status, 0, connect.stderr);
  // The local controls and a trusted publisher, as root sets them.
  const set = await runAzcmagent(root, ['config', 'set', 'extensions.allowlist', 'Contoso/Probe'], {
    env,
  });
  assert.equal(set.status, 0, set.stderr);
  const publisherKey = join(root, 'publisher.pub.pem');
  writeFileSync(
    publisherKey,
    generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }),
  );
  const trust = await runAzcmagent(
    root,
    ['extension', 'trust', '--publisher', 'Contoso', '--key', publisherKey],
    { env },
  );
  assert.equal(trust.status, 0, trust.stderr);
  await startService('himds', { uid, gid }, /himds listening/, { AZCMAGENT_HIMDS_PORT: '0' });
});

after(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await plane?.stop();
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
  if (SKIP === false) {
    spawnSync('userdel', [user]);
    spawnSync('groupdel', [user]);
  }
});

function startService(
  service: 'himds' | 'extension',
  as: { uid: number; gid: number },
  ready: RegExp,
  extra: Record<string, string> = {},
): Promise<{ child: ChildProcess; stderr: () => string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [AZCMAGENT_BIN, 'service', 'run', service], {
    env: { PATH: process.env.PATH, AZCMAGENT_ROOT: root, ...env, ...extra },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(as.uid === 0 ? {} : as),
  });
  children.push(child);
  let err = '';
  let out = '';
  child.stderr?.setEncoding('utf8').on('data', (c: string) => (err += c));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${service} not ready: ${err}`)), 30_000);
    void exited.then((code) => {
      clearTimeout(timer);
      resolve({ child, stderr: () => err, exited: Promise.resolve(code) });
    });
    child.stdout?.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve({ child, stderr: () => err, exited });
      }
    });
  });
}

/** Runs `script` in a Node process as the himds account; answers what it printed. */
function asHimds(script: string): string {
  return execFileSync(process.execPath, ['-e', script], { uid, gid, encoding: 'utf8', env: {} });
}

/** Every file and folder under the root that belongs to the himds account. */
function ownedByHimds(): string[] {
  const owned: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const stats = lstatSync(path);
      if (stats.uid === uid) owned.push(relative(root, path));
      if (stats.isDirectory()) walk(path);
    }
  };
  walk(root);
  return owned.sort();
}

void describe('the himds account and what root trusts', { skip: SKIP }, () => {
  void test('owns only what HIMDS writes', () => {
    const owned = ownedByHimds().filter((path) => !/^var\/opt\/azcmagent\/tokens\/.+/.test(path));
    assert.deepEqual(owned, [
      'var/opt/azcmagent/certs',
      'var/opt/azcmagent/certs/machine.key',
      'var/opt/azcmagent/log/himds.log',
      'var/opt/azcmagent/status/himds',
      'var/opt/azcmagent/status/himds/himds.json',
      'var/opt/azcmagent/tokens',
    ]);
  });

  void test('cannot replace, remove or shadow anything root relies on', () => {
    const targets = [
      paths.caCert,
      paths.localConfig,
      paths.localChangeJournal,
      paths.agentState,
      paths.serviceStatus('extension'),
      join(paths.trustedPublishersDir, 'Contoso', 'evil.pem'),
      join(paths.dataDir, 'planted'),
    ];
    const attempts = `
      const fs = require('node:fs');
      const out = {};
      for (const target of ${JSON.stringify(targets)}) {
        const tries = {
          write: () => fs.writeFileSync(target, 'evil'),
          rename: () => { fs.writeFileSync('${paths.certsDir}/evil', 'evil'); fs.renameSync('${paths.certsDir}/evil', target); },
          unlink: () => fs.unlinkSync(target),
          symlink: () => fs.symlinkSync('${paths.certsDir}/evil', target + '.link'),
        };
        out[target] = {};
        for (const [name, attempt] of Object.entries(tries)) {
          try { attempt(); out[target][name] = 'succeeded'; } catch (e) { out[target][name] = e.code; }
        }
      }
      process.stdout.write(JSON.stringify(out));`;
    const results = JSON.parse(asHimds(attempts)) as Record<string, Record<string, string>>;
    for (const [target, outcome] of Object.entries(results)) {
      for (const [attempt, code] of Object.entries(outcome)) {
        // ENOENT: unlinking what does not exist (the status file before the service ran) —
        // creating it was refused just above.
        assert.ok(
          ['EACCES', 'EPERM', 'ENOENT'].includes(code) &&
            !(attempt !== 'unlink' && code === 'ENOENT'),
          `${attempt} ${target} as himds: ${code}`,
        );
      }
    }
  });

  void test('reads the change journal root wrote, and reports the change to the control plane', async () => {
    const journal = statSync(paths.localChangeJournal);
    assert.deepEqual([journal.uid, journal.gid, journal.mode & 0o777], [0, gid, 0o640]);
    const acknowledged = await waitFor('the change to be acknowledged', () => {
      const status = readServiceStatus(paths.serviceStatus('himds'));
      const sent = status?.localChangesAcknowledged ?? 0;
      return sent > 0 ? sent : undefined;
    });
    // Both of root's changes before HIMDS started, in one heartbeat: the allowlist and the trust.
    assert.equal(
      acknowledged,
      2,
      'the allowlist set and the publisher trusted before HIMDS started',
    );
  });

  void test('a CA planted where earlier versions kept it changes nothing root trusts', async () => {
    const rogue = makeTestTls();
    asHimds(
      `require('node:fs').writeFileSync(${JSON.stringify(paths.legacyCaCert)}, ${JSON.stringify(rogue.caCert)})`,
    );
    const check = await runAzcmagent(root, ['check', '--json'], { env });
    const { Checks } = JSON.parse(check.stdout) as {
      Checks: { Id: string; Status: string; Detail: string }[];
    };
    const reach = Checks.find((result) => result.Id === 'reachability');
    assert.equal(reach?.Status, 'pass', reach?.Detail);
    assert.match(reach?.Detail ?? '', /verified against \S+var\/opt\/azcmagent\/ca\.crt/);
    const service = await startService(
      'extension',
      { uid: 0, gid: 0 },
      /extension service running/,
    );
    service.child.kill('SIGTERM');
    assert.equal(await service.exited, 0, service.stderr());
  });

  void test('a CA another account could change stops the extension service and disconnect', async () => {
    chownSync(paths.caCert, uid, gid);
    try {
      const service = await startService(
        'extension',
        { uid: 0, gid: 0 },
        /extension service running/,
      );
      assert.notEqual(await service.exited, 0);
      assert.match(
        service.stderr(),
        /Refusing to trust the control plane's CA certificate: \S+ca\.crt is owned by uid \d+, not root/,
      );
      const disconnect = await runAzcmagent(
        root,
        ['disconnect', '-i', plane.appId, '-p', plane.password],
        { env },
      );
      assert.notEqual(disconnect.status, 0);
      assert.match(disconnect.stderr, /Refusing to trust the control plane's CA certificate/);
    } finally {
      chownSync(paths.caCert, 0, 0);
    }
  });
});
