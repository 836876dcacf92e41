// Two versions of the azcmagent package on this machine: version A installed and connected to a
// real control plane, version B signed by its publisher and published there; root on the machine
// trusts the publisher's key for agent packages (azcmagent upgrade trust), then B is rolled out as
// a machine write; the agent's own extension service downloads B, verifies its signature, checks
// it and installs it with dpkg; after the services are
// restarted (what systemd does through the package's scripts) the machine reports B, with its
// configuration and keys kept. Then purge leaves the machine as it was.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { signAgentPackage } from '@tether/protocol/extension-package';
import { createResourceGroup } from '../arm/arm-fixtures.js';
import { startControlPlane, waitFor, type ControlPlane } from '../harness/index.js';
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

const DATA = '/var/opt/azcmagent';
const UNITS = '/lib/systemd/system';
const VERSION_FILE = 'usr/lib/azcmagent/package-version';
const API = 'api-version=2024-07-10';

const sha256 = fileSha256;

void describe(
  'an agent upgrade rolled out from the control plane',
  { skip: SKIP, timeout: 900_000 },
  () => {
    let before_: string[];
    let versionA: string;
    let versionB: string;
    let debB: string | undefined;
    let plane: ControlPlane | undefined;
    const running: UnitProcess[] = [];
    let machinePath = '';
    const publisher = generateKeyPairSync('ed25519');
    let scratch: string | undefined;

    const stopServices = async (): Promise<void> => {
      for (const service of running.splice(0).reverse()) await service.stop();
    };
    /** himdsd and extd from the programs installed now, as systemd would start them. */
    const startServices = async (): Promise<void> => {
      const himds = await startUnit(
        readUnit(`${UNITS}/himdsd.service`),
        /himds listening on http:\/\/127\.0\.0\.1:(\d+)/,
        { AZCMAGENT_HIMDS_PORT: '0', AZCMAGENT_HEARTBEAT_SECONDS: '2' },
      );
      running.push(himds);
      running.push(
        await startUnit(readUnit(`${UNITS}/extd.service`), /extension service running for (\S+)/, {
          AZCMAGENT_HIMDS_PORT: himds.match,
        }),
      );
    };
    const properties = async (): Promise<Record<string, unknown>> => {
      const answer = await (plane as ControlPlane).admin.call('GET', `${machinePath}?${API}`);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      return (answer.body['properties'] ?? {}) as Record<string, unknown>;
    };

    before(() => {
      before_ = machineSnapshot();
      versionA = packageVersion();
      versionB = `${versionA}+upgrade2`;
    });

    after(async () => {
      await stopServices();
      await plane?.stop();
      spawnSync('dpkg', ['--purge', 'azcmagent']);
      if (debB !== undefined) rmSync(debB, { force: true });
      if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
    });

    void it('installs version A and connects it', async () => {
      const debA = builtPackage('azcmagent');
      debB = laterVersion(debA, versionB, VERSION_FILE);
      const install = spawnSync('dpkg', ['--install', debA], { encoding: 'utf8' });
      assert.equal(install.status, 0, install.stderr);
      assert.equal(readFileSync(`/${VERSION_FILE}`, 'utf8').trim(), versionA);

      plane = await startControlPlane({ serverArgs: ['--heartbeat-interval', '2s'] });
      await createResourceGroup(plane, 'servers');
      const connect = spawnSync(
        '/usr/bin/azcmagent',
        [
          'connect',
          ...['--endpoint', plane.url, '--ca-cert', plane.caCert],
          ...['-t', plane.tenantId, '-s', plane.subscriptionId, '-g', 'servers', '-n', 'upgraded'],
          ...['-l', 'westeurope', '-i', plane.appId, '-p', plane.password],
        ],
        { encoding: 'utf8' },
      );
      assert.equal(connect.status, 0, connect.stderr);
      const config = spawnSync(
        '/usr/bin/azcmagent',
        ['config', 'set', 'incomingconnections.ports', '22'],
        {
          encoding: 'utf8',
        },
      );
      assert.equal(config.status, 0, config.stderr);
      machinePath = `/subscriptions/${plane.subscriptionId}/resourceGroups/servers/providers/Microsoft.HybridCompute/machines/upgraded`;
      await startServices();
      await waitFor('version A to be Connected', async () => {
        const p = await properties();
        return p['status'] === 'Connected' && p['agentVersion'] === versionA ? true : undefined;
      });
    });

    void it('rolls out version B: downloaded, checked and installed by the agent itself', async () => {
      const current = plane as ControlPlane;
      const kept = [
        `${DATA}/localconfig.json`,
        `${DATA}/agentconfig.json`,
        `${DATA}/certs/machine.key`,
        `${DATA}/ca.crt`,
      ];
      const hashes = kept.map((path) => [path, sha256(path)]);

      // Root on the machine trusts the publisher's key; without it every upgrade is refused.
      scratch = mkdtempSync(join(tmpdir(), 'tether-upgrade-key-'));
      const publicKey = join(scratch, 'publisher.pub.pem');
      writeFileSync(publicKey, publisher.publicKey.export({ format: 'pem', type: 'spki' }));
      const trust = spawnSync('/usr/bin/azcmagent', ['upgrade', 'trust', '--key', publicKey], {
        encoding: 'utf8',
      });
      assert.equal(trust.status, 0, trust.stderr);

      const bytes = readFileSync(debB as string);
      const published = await current.admin.call(
        'POST',
        `/providers/Tether.Agent/packages?${API}`,
        {
          body: {
            package: bytes.toString('base64'),
            signature: await signAgentPackage(publisher.privateKey, versionB, bytes),
          },
        },
      );
      assert.equal(published.status, 201, JSON.stringify(published.body));
      assert.equal(published.body['version'], versionB);
      const asked = await current.admin.call('PATCH', `${machinePath}?${API}`, {
        body: { properties: { agentUpgrade: { desiredVersion: versionB } } },
      });
      assert.equal(asked.status, 200, JSON.stringify(asked.body));

      const upgrade = await waitFor('the agent to report its upgrade', async () => {
        const value = (await properties())['agentUpgrade'] as Record<string, unknown> | undefined;
        return value?.['lastAttemptStatus'] === undefined ? undefined : value;
      });
      assert.equal(upgrade['lastAttemptStatus'], 'Success', String(upgrade['lastAttemptMessage']));
      assert.equal(upgrade['lastAttemptDesiredVersion'], versionB);
      assert.equal(
        execFileSync('dpkg-query', ['-W', '-f=${Version}', 'azcmagent'], { encoding: 'utf8' }),
        versionB,
      );
      assert.equal(readFileSync(`/${VERSION_FILE}`, 'utf8').trim(), versionB);
      assert.deepEqual(
        kept.map((path) => [path, sha256(path)]),
        hashes,
        'configuration, identity and CA are kept',
      );

      // This machine has no systemd to restart the services as the package's scripts ask it to.
      await stopServices();
      await startServices();
      await waitFor('the machine to report version B', async () => {
        const p = await properties();
        return p['status'] === 'Connected' && p['agentVersion'] === versionB ? true : undefined;
      });
      const version = spawnSync('/usr/bin/azcmagent', ['version'], { encoding: 'utf8' });
      assert.match(
        version.stdout,
        new RegExp(`azcmagent version ${versionB.replace(/\+/g, '\\+')}`),
      );
      for (const service of running) assert.equal(service.child.exitCode, null, 'the service runs');
      const trusted = spawnSync('/usr/bin/azcmagent', ['upgrade', 'trust', '--list'], {
        encoding: 'utf8',
      });
      assert.match(trusted.stdout, /^[A-Za-z0-9_-]{43}\n$/, 'the trusted key is kept');
      const again = (await properties())['agentUpgrade'] as Record<string, unknown>;
      assert.equal(
        again['lastAttemptStatus'],
        'Success',
        'the restarted service does not install again',
      );
    });

    void it('purge leaves the machine as it was', async () => {
      await stopServices();
      const purge = spawnSync('dpkg', ['--purge', 'azcmagent'], { encoding: 'utf8' });
      assert.equal(purge.status, 0, purge.stderr);
      assert.deepEqual(machineSnapshot(), before_);
    });
  },
);
