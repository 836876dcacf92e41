// Agent upgrades end to end with real processes: an administrator signs and publishes an
// azcmagent package with `tether agent-package publish --key` and rolls it out with `tether
// machine upgrade-agent`; the connected agent's extension service receives it through its long
// poll and answers. With no key trusted for agent packages it refuses; after `azcmagent upgrade
// trust --key` it still refuses a package another key signed, and accepts the trusted signature
// (from a checkout it then reports that it is not installed from a package); with `azcmagent
// config set agentupgrade.enabled false` it refuses, naming the local setting, and both local
// changes are audited like every other. (Installing for real is
// packaging/agent-upgrade.system.test.ts.)
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { smallDeb } from '@tether/control-plane/agent-upgrade/testing/small-deb';
import { createResourceGroup } from '../arm/arm-fixtures.js';
import {
  connectAgent,
  startControlPlane,
  tetherCli,
  waitFor,
  type ConnectedAgent,
  type ControlPlane,
  type TetherCli,
} from '../harness/index.js';

const ROOT_ONLY = process.geteuid?.() === 0 ? false : 'azcmagent connect needs root';
const RG = 'upgrades';

void describe('agent upgrade rollout', { skip: ROOT_ONLY, timeout: 240_000 }, () => {
  let plane: ControlPlane;
  let agent: ConnectedAgent;
  let cli: TetherCli;
  let scratch: string;

  const machine = async (): Promise<Record<string, unknown>> => {
    const answer = await plane.admin.call('GET', `${agent.machinePath}?api-version=2024-07-10`);
    assert.equal(answer.status, 200);
    return (answer.body['properties'] ?? {}) as Record<string, unknown>;
  };
  const keyOf = (name: string): string[] => ['--key', join(scratch, name, 'publisher.key')];
  const upgradeOf = async (): Promise<Record<string, unknown>> =>
    ((await machine())['agentUpgrade'] ?? {}) as Record<string, unknown>;
  /** Rolls `version` out to the machine with the CLI; resolves with the machine's answer. */
  const rollOut = async (version: string): Promise<Record<string, unknown>> => {
    const before = (await upgradeOf())['lastAttemptTimestamp'];
    const run = await cli.run([
      'machine',
      'upgrade-agent',
      '--version',
      version,
      '-g',
      RG,
      '-n',
      agent.name,
    ]);
    assert.equal(run.code, 0, run.stderr);
    const correlationId = (await upgradeOf())['correlationId'];
    return waitFor(`the agent's answer to the upgrade to ${version}`, async () => {
      const upgrade = await upgradeOf();
      return upgrade['lastAttemptCorrelationId'] === correlationId &&
        upgrade['lastAttemptTimestamp'] !== before
        ? upgrade
        : undefined;
    });
  };

  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'tether-upgrade-e2e-'));
    plane = await startControlPlane();
    await createResourceGroup(plane, RG);
    agent = await connectAgent(plane, { resourceGroup: RG, name: 'upgraded1' });
    await agent.startHimds();
    await agent.startExtensionService();
    cli = tetherCli(plane, scratch);
    const login = await cli.login();
    assert.equal(login.code, 0, login.stderr);
  });

  after(async () => {
    await agent?.stop();
    await plane?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  void it('publishes signed packages, and refuses one that is not an azcmagent package', async () => {
    for (const keys of ['publisher', 'stranger']) {
      const keygen = await cli.run(['extension', 'keygen', '--out', join(scratch, keys)]);
      assert.equal(keygen.code, 0, keygen.stderr);
    }
    const unsigned = join(scratch, 'azcmagent_9.9.8_amd64.deb');
    writeFileSync(unsigned, smallDeb({ version: '9.9.8' }));
    const withoutKey = await cli.run(['agent-package', 'publish', unsigned]);
    assert.notEqual(withoutKey.code, 0);
    assert.match(withoutKey.stderr, /--key/);

    for (const [version, signer] of [
      ['9.9.9', 'publisher'],
      ['9.9.10', 'stranger'],
    ] as const) {
      const deb = join(scratch, `azcmagent_${version}_amd64.deb`);
      writeFileSync(deb, smallDeb({ version }));
      const published = await cli.run(['agent-package', 'publish', deb, ...keyOf(signer)]);
      assert.equal(published.code, 0, published.stderr);
      assert.equal((JSON.parse(published.stdout) as { version: string }).version, version);
    }

    const other = join(scratch, 'nginx_1.0_amd64.deb');
    writeFileSync(other, smallDeb({ name: 'nginx', version: '1.0' }));
    const refused = await cli.run(['agent-package', 'publish', other, ...keyOf('publisher')]);
    assert.equal(refused.code, 2, 'refused before anything is signed or sent');
    assert.match(refused.stderr, /'nginx', not azcmagent/);
    const list = await cli.run(['agent-package', 'list', '-o', 'table']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /azcmagent\s+9\.9\.9/);
    assert.doesNotMatch(list.stdout, /nginx/);

    const unknown = await cli.run([
      'machine',
      'upgrade-agent',
      '--version',
      '8.0.0',
      '-g',
      RG,
      '-n',
      agent.name,
    ]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /AgentPackageNotFound.*8\.0\.0/);
  });

  void it('with no key trusted for agent packages, the machine refuses and says how to trust one', async () => {
    const upgrade = await rollOut('9.9.9');
    assert.equal(upgrade['lastAttemptStatus'], 'Failed');
    assert.match(
      String(upgrade['lastAttemptMessage']),
      /no key is trusted for agent packages on this machine: azcmagent upgrade trust --key/,
    );
  });

  void it('a trusted key is set by root on the machine; another key’s signature is refused', async () => {
    const trust = await agent.run([
      'upgrade',
      'trust',
      '--key',
      join(scratch, 'publisher', 'publisher.pub.pem'),
    ]);
    assert.equal(trust.status, 0, trust.stderr);
    assert.match(trust.stdout, /is trusted for agent packages/);
    const list = await agent.run(['upgrade', 'trust', '--list']);
    assert.equal(list.stdout.trim().split('\n').length, 1, list.stdout);

    const upgrade = await rollOut('9.9.10');
    assert.equal(upgrade['lastAttemptStatus'], 'Failed');
    assert.match(
      String(upgrade['lastAttemptMessage']),
      /signature is not accepted \(The signature of azcmagent 9\.9\.10 was not made by a key trusted for agent packages\.\)/,
    );
  });

  void it('with the trusted signature, a checkout answers that it is not installed from a package', async () => {
    const upgrade = await rollOut('9.9.9');
    assert.equal(upgrade['lastAttemptStatus'], 'Failed');
    assert.equal(upgrade['lastAttemptDesiredVersion'], '9.9.9');
    assert.match(String(upgrade['lastAttemptMessage']), /not installed from a package/);
    assert.equal((await machine())['agentVersion'], '0.1.0', 'still the version it runs');
  });

  void it('the local setting refuses, naming itself, and its change is audited', async () => {
    const set = await agent.run(['config', 'set', 'agentupgrade.enabled', 'false']);
    assert.equal(set.status, 0, set.stderr);
    assert.match(set.stdout, /Config property agentupgrade\.enabled set to value false/);
    const upgrade = await rollOut('9.9.9');
    assert.equal(upgrade['lastAttemptStatus'], 'Failed');
    assert.match(String(upgrade['lastAttemptMessage']), /agentupgrade\.enabled is false/);

    const events = await waitFor('the local change in the activity log', async () => {
      const answer = await plane.admin.call(
        'GET',
        `/subscriptions/${plane.subscriptionId}/providers/Microsoft.Insights/eventtypes/management/values?api-version=2015-04-01&$filter=${encodeURIComponent(
          `eventTimestamp ge '2000-01-01T00:00:00Z' and resourceUri eq '${agent.machinePath}'`,
        )}`,
      );
      const value = (answer.body['value'] ?? []) as {
        operationName: { value: string };
        properties: Record<string, unknown>;
        subStatus?: { value: string };
      }[];
      const localOf = (property: string) =>
        value.filter(
          (e) =>
            e.operationName.value === 'Microsoft.HybridCompute/machines/localConfiguration/write' &&
            e.properties['property'] === property,
        );
      const local = localOf('agentupgrade.enabled');
      const trust = localOf('agentupgrade.trustedkeys');
      const refusals = value.filter((e) => e.subStatus?.value === 'AgentUpgradeFailed');
      return local.length > 0 && trust.length > 0 && refusals.length >= 4
        ? { local, trust, refusals }
        : undefined;
    });
    assert.equal(events.local[0]?.properties['newValue'], 'false');
    assert.equal(events.trust[0]?.properties['oldValue'], '');
    assert.match(String(events.trust[0]?.properties['newValue']), /^[A-Za-z0-9_-]{43}$/);
  });
});
