// The tether package on this machine: installed, tether.service's commands initialise and serve
// the control plane as the tether account; "Add a server" prints one command that installs the
// agent from it and connects, and that stops cleanly, leaving nothing installed, for a wrong CA
// or an expired token. Purging both packages leaves the machine as it was.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { lookupAccount } from '@tether/agent/identity/himds-account';
import { waitFor } from '../harness/index.js';
import { builtPackage } from './built-packages.js';
import { machineSnapshot } from './machine-snapshot.js';
import { readUnit, startUnit, type UnitProcess } from './unit-process.js';

const isInstalled = (name: string): boolean =>
  spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' }).stdout.includes(
    'ok installed',
  );
const SKIP =
  process.geteuid?.() !== 0
    ? 'installing a package needs root'
    : isInstalled('tether') || isInstalled('azcmagent')
      ? 'tether or azcmagent is installed on this machine; the test leaves a real installation alone'
      : spawnSync('curl', ['--version']).status !== 0
        ? 'the install command needs curl'
        : false;

const UNIT = '/lib/systemd/system/tether.service';
const STATE = '/var/lib/tether';

interface Bootstrap {
  tenantId: string;
  subscriptionId: string;
  appId: string;
  password: string;
  caCert: string;
  keyEncryptionKeyFile: string;
}

/** KEY=value lines of an environment file, as systemd reads them. */
function environmentFile(path: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match?.[1] !== undefined) values[match[1]] = match[2] ?? '';
  }
  return values;
}

void describe(
  'the tether Debian package and the install command',
  { skip: SKIP, timeout: 900_000 },
  () => {
    let before_: string[];
    let scratch: string;
    let server: UnitProcess | undefined;
    let url = '';
    let bootstrap: Bootstrap;
    let expiring = '';
    let expiringSince = 0;
    const cliEnv = (): Record<string, string> => ({
      PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: scratch,
      AZURE_CLIENT_ID: bootstrap.appId,
      AZURE_CLIENT_SECRET: bootstrap.password,
      AZURE_TENANT_ID: bootstrap.tenantId,
      AZURE_SUBSCRIPTION_ID: bootstrap.subscriptionId,
      TETHER_ENDPOINT: url,
      TETHER_CA_CERT: join(scratch, 'ca.crt'),
    });
    const tether = (...args: string[]): string => {
      const run = spawnSync('/usr/bin/tether', args, { env: cliEnv(), encoding: 'utf8' });
      assert.equal(run.status, 0, `tether ${args.join(' ')}: ${run.stderr}`);
      return run.stdout;
    };
    /** What `--install-command` printed after its explanation: the command an operator copies. */
    const installCommandFor = (token: string[]): string => {
      const printed = tether(
        'onboarding-token',
        'create',
        '-g',
        'servers',
        ...token,
        '--install-command',
      );
      assert.match(printed, /^Run this as root on the machine to add/);
      return printed
        .slice(printed.indexOf('sudo sh -c '))
        .trim()
        .replace(/^sudo /, '');
    };

    before(() => {
      before_ = machineSnapshot();
      scratch = mkdtempSync(join(tmpdir(), 'tether-cp-package-e2e-'));
      chmodSync(scratch, 0o755);
    });

    after(async () => {
      await server?.stop();
      spawnSync('dpkg', ['--purge', 'azcmagent']);
      spawnSync('dpkg', ['--purge', 'tether']);
      rmSync(scratch, { recursive: true, force: true });
    });

    void it('installs the tether account, its state folder, settings and a unit systemd accepts', () => {
      const install = spawnSync('dpkg', ['--install', builtPackage('tether')], {
        encoding: 'utf8',
      });
      assert.equal(install.status, 0, install.stderr);
      const account = lookupAccount('tether');
      assert.ok(account !== undefined && account.uid < 1000, 'tether is a system account');
      const state = statSync(STATE);
      assert.equal(state.uid, account.uid);
      assert.equal(state.mode & 0o777, 0o700);
      const settings = statSync('/etc/tether/tether.env');
      assert.equal(settings.uid, 0);
      assert.equal(settings.mode & 0o777, 0o600, 'the settings may hold a database password');
      const kek = statSync('/etc/tether/key-encryption.key');
      assert.equal(kek.uid, account.uid);
      assert.equal(kek.mode & 0o777, 0o600, 'the key-encryption key is the tether account’s alone');
      assert.match(
        readFileSync('/etc/tether/key-encryption.key', 'utf8'),
        /^[A-Za-z0-9+/]{43}=\n$/,
      );
      const verify = spawnSync('systemd-analyze', ['verify', UNIT], { encoding: 'utf8' });
      assert.equal(verify.status, 0, verify.stderr);
      assert.doesNotMatch(verify.stderr, /tether\.service/, verify.stderr);
      const unit = readUnit(UNIT);
      assert.equal(unit.user, 'tether');
      assert.deepEqual(unit.service.get('ProtectSystem'), ['strict']);
      assert.deepEqual(unit.service.get('ReadWritePaths'), [STATE]);
    });

    void it('initialises on the first start and serves, as the tether account', async () => {
      const unit = readUnit(UNIT);
      const settings = environmentFile('/etc/tether/tether.env');
      // The agent package the control plane hands out, where the tether account can read it.
      const agentDeb = join(scratch, 'azcmagent.deb');
      copyFileSync(builtPackage('azcmagent'), agentDeb);
      chmodSync(agentDeb, 0o644);
      const env = { ...settings, TETHER_LISTEN: '127.0.0.1:0', TETHER_AGENT_PACKAGE: agentDeb };
      const pre = unit.service.get('ExecStartPre')?.[0]?.split(/\s+/) ?? [];
      const init = spawnSync(
        'setpriv',
        ['--reuid=tether', '--regid=tether', '--init-groups', '--', ...pre],
        {
          env: { PATH: '/usr/bin:/bin', ...env },
          encoding: 'utf8',
        },
      );
      assert.equal(init.status, 0, init.stderr);
      bootstrap = JSON.parse(
        readFileSync(`${STATE}/bootstrap-credentials.json`, 'utf8'),
      ) as Bootstrap;
      assert.equal(bootstrap.keyEncryptionKeyFile, '/etc/tether/key-encryption.key');
      assert.equal(statSync(`${STATE}/bootstrap-credentials.json`).mode & 0o777, 0o600);
      // A second start initialises nothing again.
      const again = spawnSync(
        'setpriv',
        ['--reuid=tether', '--regid=tether', '--init-groups', '--', ...pre],
        {
          env: { PATH: '/usr/bin:/bin', ...env },
        },
      );
      assert.equal(again.status, 0);
      assert.equal(
        (JSON.parse(readFileSync(`${STATE}/bootstrap-credentials.json`, 'utf8')) as Bootstrap)
          .tenantId,
        bootstrap.tenantId,
      );

      server = await startUnit(unit, /tether listening on (https:\/\/\S+)/, env);
      assert.equal(statSync(`/proc/${server.child.pid}`).uid, lookupAccount('tether')?.uid);
      url = server.match;
      copyFileSync(bootstrap.caCert, join(scratch, 'ca.crt'));
      tether('group', 'create', '-n', 'servers', '-l', 'westeurope');
      // Made now so that it has expired by the time the last test uses it.
      const printed = tether(
        'onboarding-token',
        'create',
        '-g',
        'servers',
        '--expires',
        '1m',
        '--max-machines',
        '1',
      );
      expiring = printed.trim();
      expiringSince = performance.now();
    });

    void it('a wrong CA stops the install command before anything is installed', () => {
      const command = installCommandFor(['--expires', '1h', '--max-machines', '1']);
      const otherCa = join(scratch, 'other');
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:P-256',
          '-nodes',
          '-keyout',
          `${otherCa}.key`,
          '-out',
          `${otherCa}.crt`,
          '-subj',
          '/CN=not-tether',
          '-days',
          '1',
        ],
        { stdio: 'ignore' },
      );
      const pem = readFileSync(`${otherCa}.crt`, 'utf8').trim();
      const wrong = command.replace(/'-----BEGIN CERTIFICATE-----[^']*'/, `'${pem}'`);
      assert.notEqual(wrong, command);
      const run = spawnSync('sh', ['-c', wrong], { encoding: 'utf8' });
      assert.notEqual(run.status, 0);
      assert.match(run.stderr, /could not fetch the install script .* trusting only the CA/);
      assert.equal(isInstalled('azcmagent'), false);
    });

    void it('the install command installs the agent and connects the machine in one step', async () => {
      const command = installCommandFor(['--expires', '1h', '--max-machines', '1']);
      const run = spawnSync('sh', ['-c', command], { encoding: 'utf8' });
      assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
      assert.match(run.stdout, /this machine is connected/);
      assert.ok(isInstalled('azcmagent'));
      const show = spawnSync('/usr/bin/azcmagent', ['show', '--json'], { encoding: 'utf8' });
      assert.equal(show.status, 0, show.stderr);
      const listed = await waitFor('the machine in the control plane', () => {
        const list = tether('machine', 'list', '-g', 'servers', '-o', 'json');
        return list.includes('"name"') ? list : undefined;
      });
      assert.ok(listed.length > 0);
      const disconnect = spawnSync('/usr/bin/azcmagent', ['disconnect', '--force-local-only'], {
        encoding: 'utf8',
      });
      assert.equal(disconnect.status, 0, disconnect.stderr);
      execFileSync('dpkg', ['--purge', 'azcmagent']);
    });

    void it('an expired token stops it with a clear message and leaves nothing installed', async () => {
      const wait = 65_000 - (performance.now() - expiringSince);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const printed = installCommandFor(['--expires', '1h', '--max-machines', '1']);
      const command = printed.replace(/'[^']*'$/, `'${expiring}'`);
      const run = spawnSync('sh', ['-c', command], { encoding: 'utf8' });
      assert.notEqual(run.status, 0);
      assert.match(run.stderr, /expired/i);
      assert.match(run.stderr, /removed again/);
      assert.equal(isInstalled('azcmagent'), false);
      assert.equal(lookupAccount('himds'), undefined, 'the rollback took the himds account too');
    });

    void it('purging the package leaves the machine as it was', async () => {
      await server?.stop();
      server = undefined;
      execFileSync('dpkg', ['--purge', 'tether']);
      assert.equal(lookupAccount('tether'), undefined);
      assert.deepEqual(machineSnapshot(), before_);
    });
  },
);
