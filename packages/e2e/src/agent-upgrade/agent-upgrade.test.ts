// Agent upgrades end to end with real processes: an administrator publishes an azcmagent package
// with `tether agent-package publish` and rolls it out with `tether machine upgrade-agent`; the
// connected agent's extension service receives it through its long poll and answers. From a
// checkout it reports that it is not installed from a package; with `azcmagent config set
// agentupgrade.enabled false` it refuses, naming the local setting, and that change is audited
// like every other. (Installing for real is packaging/agent-upgrade.system.test.ts.)
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

  void it('publishes a package, and refuses one that is not an azcmagent package', async () => {
    const deb = join(scratch, 'azcmagent_9.9.9_amd64.deb');
    writeFileSync(deb, smallDeb({ version: '9.9.9' }));
    const published = await cli.run(['agent-package', 'publish', deb]);
    assert.equal(published.code, 0, published.stderr);
    assert.equal((JSON.parse(published.stdout) as { version: string }).version, '9.9.9');

    const other = join(scratch, 'nginx_1.0_amd64.deb');
    writeFileSync(other, smallDeb({ name: 'nginx', version: '1.0' }));
    const refused = await cli.run(['agent-package', 'publish', other]);
    assert.equal(refused.code, 1);
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

  void it('an agent run from a checkout answers that it is not installed from a package', async () => {
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
      const local = value.filter(
        (e) =>
          e.operationName.value === 'Microsoft.HybridCompute/machines/localConfiguration/write' &&
          e.properties['property'] === 'agentupgrade.enabled',
      );
      const refusals = value.filter((e) => e.subStatus?.value === 'AgentUpgradeFailed');
      return local.length > 0 && refusals.length >= 2 ? { local, refusals } : undefined;
    });
    assert.equal(events.local[0]?.properties['newValue'], 'false');
  });
});
