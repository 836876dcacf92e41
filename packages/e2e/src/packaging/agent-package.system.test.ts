// The azcmagent package on this machine: installed, it creates the himds account and the layout
// with the owners and modes the agent checks; its units' commands, started as their units' users,
// connect the machine, heartbeat and install an extension with the packaged programs; an upgrade
// keeps the machine's state; remove stops at the data; purge leaves the machine as it was.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { lookupAccount, lookupGroup } from '@tether/agent/identity/himds-account';
import { armInput, createResourceGroup, type ClientAnswer } from '../arm/arm-fixtures.js';
import {
  firstPartyPackages,
  makePublisherKey,
  publishPackage,
  runNodeClient,
  startControlPlane,
  waitFor,
  type ControlPlane,
} from '../harness/index.js';
import {
  builtPackage,
  fileSha256,
  INSTALL_SKIP,
  laterVersion,
  packageVersion,
} from './built-packages.js';
import { machineSnapshot } from './machine-snapshot.js';
import { readUnit, startUnit, type UnitProcess } from './unit-process.js';

const SKIP = INSTALL_SKIP;

const PROGRAM_DIR = '/usr/lib/azcmagent';
const DATA = '/var/opt/azcmagent';
const UNITS = '/lib/systemd/system';
const CUSTOM_SCRIPT = { publisher: 'Microsoft.Azure.Extensions', type: 'CustomScript' };
const MARKER = 'usr/lib/azcmagent/upgrade-marker';

function dpkg(...args: string[]): string {
  const run = spawnSync('dpkg', args, { encoding: 'utf8' });
  assert.equal(run.status, 0, `dpkg ${args.join(' ')}: ${run.stderr}${run.stdout}`);
  return run.stdout;
}

function ownerAndMode(path: string): string {
  const stats = statSync(path);
  const name = (id: number, file: string): string =>
    readFileSync(file, 'utf8')
      .split('\n')
      .find((line) => line.split(':')[2] === String(id))
      ?.split(':')[0] ?? String(id);
  return `${(stats.mode & 0o7777).toString(8).padStart(4, '0')} ${name(stats.uid, '/etc/passwd')}:${name(stats.gid, '/etc/group')}`;
}

const sha256 = fileSha256;

/** As the himds account: whether `sh -c script` succeeds. */
function asHimds(script: string): boolean {
  return spawnSync('runuser', ['-u', 'himds', '--', 'sh', '-c', script]).status === 0;
}

void describe('the azcmagent Debian package', { skip: SKIP, timeout: 900_000 }, () => {
  let before_: string[];
  let deb: string;
  let upgrade: string | undefined;
  let plane: ControlPlane | undefined;
  let scratch: string;
  const running: UnitProcess[] = [];

  const stopServices = async (): Promise<void> => {
    for (const service of running.splice(0).reverse()) await service.stop();
  };

  before(() => {
    before_ = machineSnapshot();
    deb = builtPackage('azcmagent');
    scratch = mkdtempSync(join(tmpdir(), 'tether-package-e2e-'));
  });

  after(async () => {
    await stopServices();
    await plane?.stop();
    spawnSync('dpkg', ['--purge', 'azcmagent']);
    rmSync(scratch, { recursive: true, force: true });
    if (upgrade !== undefined) rmSync(upgrade, { force: true });
  });

  void it('installs the himds account, the layout the agent checks, the units and the command', () => {
    dpkg('--install', deb);
    const himds = lookupAccount('himds');
    assert.ok(himds !== undefined, 'the himds user exists');
    assert.ok(himds.uid < 1000, `himds is a system account (uid ${himds.uid})`);
    assert.equal(lookupGroup('himds'), himds.gid, 'himds has its own group');
    const passwd = execFileSync('getent', ['passwd', 'himds'], { encoding: 'utf8' });
    assert.match(passwd.trim(), /:\/usr\/sbin\/nologin$/, 'himds cannot log in');

    const expected: [string, string][] = [
      [DATA, '0755 root:root'],
      [`${DATA}/log`, '0755 root:root'],
      [`${DATA}/log/himds.log`, '0640 himds:himds'],
      [`${DATA}/status`, '0755 root:root'],
      [`${DATA}/status/himds`, '0755 himds:himds'],
      [`${DATA}/certs`, '0755 himds:himds'],
      [`${DATA}/tokens`, '0750 himds:himds'],
      [`${DATA}/trusted-publishers`, '0755 root:root'],
      ['/var/lib/GuestConfig', '0755 root:root'],
      [`${PROGRAM_DIR}/node/bin/node`, '0755 root:root'],
      [`${PROGRAM_DIR}/dist/bundle/azcmagent.cjs`, '0644 root:root'],
      ['/usr/bin/azcmagent', '0755 root:root'],
      [`${UNITS}/himdsd.service`, '0644 root:root'],
      [`${UNITS}/extd.service`, '0644 root:root'],
      [`${UNITS}/gcad.service`, '0644 root:root'],
    ];
    for (const [path, want] of expected) assert.equal(ownerAndMode(path), want, path);
    assert.equal(readlinkSync('/opt/azcmagent'), PROGRAM_DIR);
    assert.match(
      readFileSync('/etc/profile.d/azcmagent.sh', 'utf8'),
      /IDENTITY_ENDPOINT=http:\/\/127\.0\.0\.1:40342\/metadata\/identity\/oauth2\/token/,
    );

    // The packaged runtime, not this machine's Node.js.
    const version = spawnSync('/usr/bin/azcmagent', ['version'], { encoding: 'utf8' });
    assert.equal(version.status, 0, version.stderr);
    assert.match(version.stdout, /\d+\.\d+\.\d+/);
    const runtime = execFileSync(`${PROGRAM_DIR}/node/bin/node`, ['--version'], {
      encoding: 'utf8',
    });
    assert.notEqual(runtime.trim(), process.version);
  });

  void it('has units systemd accepts, HIMDS unprivileged and sandboxed', () => {
    const units = ['himdsd', 'extd', 'gcad'].map((name) => `${UNITS}/${name}.service`);
    const verify = spawnSync('systemd-analyze', ['verify', ...units], { encoding: 'utf8' });
    assert.equal(verify.status, 0, verify.stderr);
    assert.doesNotMatch(verify.stderr, /himdsd|extd|gcad/, verify.stderr);

    const himds = readUnit(`${UNITS}/himdsd.service`);
    assert.equal(himds.user, 'himds');
    assert.deepEqual(himds.service.get('CapabilityBoundingSet'), ['']);
    assert.deepEqual(himds.service.get('NoNewPrivileges'), ['yes']);
    assert.deepEqual(himds.service.get('ProtectSystem'), ['strict']);
    const writable = himds.service.get('ReadWritePaths')?.[0]?.split(/\s+/) ?? [];
    assert.ok(writable.length > 0 && writable.every((path) => path.startsWith(`${DATA}/`)));
    for (const name of ['extd', 'gcad']) {
      assert.equal(readUnit(`${UNITS}/${name}.service`).user, undefined, `${name} runs as root`);
    }
  });

  void it('connects, heartbeats and installs an extension with the packaged programs', async () => {
    plane = await startControlPlane({ serverArgs: ['--heartbeat-interval', '2s'] });
    await createResourceGroup(plane, 'servers');
    const key = await makePublisherKey(plane, join(scratch, 'publisher'));
    for (const ref of firstPartyPackages()) await publishPackage(plane, key, ref);

    const connect = spawnSync(
      '/usr/bin/azcmagent',
      [
        'connect',
        ...['--endpoint', plane.url, '--ca-cert', plane.caCert],
        ...['-t', plane.tenantId, '-s', plane.subscriptionId, '-g', 'servers', '-n', 'packaged'],
        ...['-l', 'westeurope', '-i', plane.appId, '-p', plane.password],
      ],
      { encoding: 'utf8' },
    );
    assert.equal(connect.status, 0, connect.stderr);
    const trust = spawnSync(
      '/usr/bin/azcmagent',
      ['extension', 'trust', '--publisher', CUSTOM_SCRIPT.publisher, '--key', key.publicKeyFile],
      { encoding: 'utf8' },
    );
    assert.equal(trust.status, 0, trust.stderr);
    const config = spawnSync(
      '/usr/bin/azcmagent',
      ['config', 'set', 'incomingconnections.ports', '22'],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(config.status, 0, config.stderr);

    // A free port instead of 40342, so the test never meets another HIMDS on this machine.
    const himds = await startUnit(
      readUnit(`${UNITS}/himdsd.service`),
      /himds listening on http:\/\/127\.0\.0\.1:(\d+)/,
      { AZCMAGENT_HIMDS_PORT: '0', AZCMAGENT_HEARTBEAT_SECONDS: '2' },
    );
    running.push(himds);
    const himdsUid = statSync(`/proc/${himds.child.pid}`).uid;
    assert.equal(himdsUid, lookupAccount('himds')?.uid, 'HIMDS runs as himds');
    const extd = await startUnit(
      readUnit(`${UNITS}/extd.service`),
      /extension service running for (\S+)/,
      { AZCMAGENT_HIMDS_PORT: himds.match },
    );
    running.push(extd);
    assert.equal(readlinkSync(`/proc/${extd.child.pid}/exe`), `${PROGRAM_DIR}/node/bin/node`);

    const machine = `/subscriptions/${plane.subscriptionId}/resourceGroups/servers/providers/Microsoft.HybridCompute/machines/packaged?api-version=2024-07-10`;
    const current = plane;
    await waitFor('the machine to be Connected', async () => {
      const answer = await current.admin.call('GET', machine);
      const props = (answer.body['properties'] ?? {}) as Record<string, unknown>;
      return props['status'] === 'Connected' ? true : undefined;
    });

    const version = firstPartyPackages().find((p) => p.type === CUSTOM_SCRIPT.type)?.version;
    assert.ok(version !== undefined);
    const deployed = await runNodeClient<ClientAnswer<{ properties?: Record<string, unknown> }>>(
      'arm-machine-extensions',
      [
        armInput(plane, 'createOrUpdate', {
          resourceGroup: 'servers',
          machine: 'packaged',
          name: 'hello',
          extension: {
            location: 'westeurope',
            properties: {
              ...CUSTOM_SCRIPT,
              typeHandlerVersion: version.split('.').slice(0, 2).join('.'),
              settings: { commandToExecute: 'echo hello from the package' },
            },
          },
        }),
      ],
      plane.clientEnv(),
    );
    assert.ok(deployed.ok, JSON.stringify(deployed.error));
    assert.equal(deployed.result?.properties?.['provisioningState'], 'Succeeded');
    assert.ok(
      existsSync(`/var/lib/waagent/${CUSTOM_SCRIPT.publisher}.${CUSTOM_SCRIPT.type}-${version}`),
    );
  });

  void it('keeps HIMDS to its own folders', () => {
    assert.ok(asHimds(`: > ${DATA}/tokens/probe && rm ${DATA}/tokens/probe`), 'tokens/');
    for (const path of [
      `${DATA}/localconfig.json`,
      `${DATA}/agentconfig.json`,
      `${DATA}/ca.crt`,
      `${DATA}/probe`,
      `${DATA}/trusted-publishers/probe`,
      `${DATA}/status/probe`,
      `${PROGRAM_DIR}/probe`,
      '/var/lib/GuestConfig/probe',
    ]) {
      assert.equal(asHimds(`: >> ${path}`), false, `himds can write ${path}`);
    }
    assert.equal(ownerAndMode(`${DATA}/certs/machine.key`), '0600 himds:himds');
  });

  void it('an upgrade replaces the programs and keeps config, keys, publishers, extensions', async () => {
    await stopServices();
    const kept = [
      `${DATA}/localconfig.json`,
      `${DATA}/agentconfig.json`,
      `${DATA}/certs/machine.key`,
      `${DATA}/ca.crt`,
      `${DATA}/extensions/state.json`,
      ...execFileSync('find', [`${DATA}/trusted-publishers`, '-type', 'f'], { encoding: 'utf8' })
        .split('\n')
        .filter((line) => line !== ''),
    ];
    assert.ok(kept.length > 5, 'a trusted publisher key is among the kept files');
    const hashes = kept.map((path) => [path, sha256(path), ownerAndMode(path)]);
    const extensions = execFileSync('ls', ['/var/lib/waagent'], { encoding: 'utf8' });

    upgrade = laterVersion(deb, `${packageVersion()}+upgrade1`, MARKER);
    dpkg('--install', upgrade);
    assert.ok(existsSync(`/${MARKER}`), 'the new programs are in place');
    assert.equal(
      execFileSync('dpkg-query', ['-W', '-f=${Version}', 'azcmagent'], { encoding: 'utf8' }),
      `${packageVersion()}+upgrade1`,
    );
    assert.deepEqual(
      kept.map((path) => [path, sha256(path), ownerAndMode(path)]),
      hashes,
    );
    assert.equal(execFileSync('ls', ['/var/lib/waagent'], { encoding: 'utf8' }), extensions);

    // The upgraded HIMDS starts with the kept key and identity.
    running.push(
      await startUnit(readUnit(`${UNITS}/himdsd.service`), /himds listening on http:\S+:(\d+)/, {
        AZCMAGENT_HIMDS_PORT: '0',
      }),
    );
    await stopServices();
  });

  void it('remove takes the programs and keeps the data; purge leaves the machine as before', () => {
    dpkg('--remove', 'azcmagent');
    for (const gone of [PROGRAM_DIR, '/usr/bin/azcmagent', '/opt/azcmagent']) {
      assert.equal(existsSync(gone), false, `${gone} is removed`);
    }
    assert.ok(existsSync(`${DATA}/certs/machine.key`), 'remove keeps the identity');
    assert.ok(lookupAccount('himds') !== undefined, 'remove keeps the account');

    dpkg('--purge', 'azcmagent');
    assert.equal(lookupAccount('himds'), undefined);
    assert.equal(existsSync(DATA), false);
    assert.deepEqual(machineSnapshot(), before_);
  });
});
