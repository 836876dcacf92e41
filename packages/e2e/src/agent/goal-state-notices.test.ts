// Goal-state changes by notice end to end: the real `tether server`, a real agent (HIMDS, the
// extension service and the guest configuration service as processes), real TLS. With the agent
// channel, a settings change to an extension and a new guest configuration assignment reach the
// running agent while neither service holds a long poll at the control plane — every goal-state
// request the server logged for the machine is one answered at once (no `after`). With
// `tether server --no-agent-channel`, the services long-poll as before and changes still arrive.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { GUEST_CONFIGURATION_GOAL_STATE_PATH } from '@tether/protocol';
import {
  builtInConfigurations,
  publishGuestConfiguration,
  waitFor,
  type ControlPlane,
} from '../harness/index.js';
import {
  CUSTOM_SCRIPT,
  customScriptHandlerVersion,
  startExtensionFixture,
  type ExtensionFixture,
} from '../extensions/extension-fixture.js';

const ROOT_ONLY = process.geteuid?.() === 0 ? false : 'azcmagent connect needs root';
const GC_PUBLISHER = 'Contoso.Baselines';
const GC_API = 'api-version=2024-04-05';

/** The goal-state GETs the server logged for machine `name` from offset `from` of its log. */
function goalStateRequests(plane: ControlPlane, name: string, from: number): string[] {
  return plane
    .logs()
    .slice(from)
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => (JSON.parse(line) as { req?: { method?: string; url?: string } }).req)
    .filter(
      (req) =>
        req?.method === 'GET' &&
        req.url?.includes(`/machines/${name}/`) === true &&
        (req.url.includes('/extensionGoalState?') ||
          req.url.includes(`${GUEST_CONFIGURATION_GOAL_STATE_PATH}?`)),
    )
    .map((req) => req?.url ?? '');
}

async function withGuestConfiguration(fx: ExtensionFixture): Promise<string> {
  const ref = builtInConfigurations()[0];
  if (ref === undefined) throw new Error('no built-in guest configuration');
  await publishGuestConfiguration(fx.plane, fx.key, GC_PUBLISHER, ref);
  const trusted = await fx.azcmagent(
    'extension',
    'trust',
    '--publisher',
    GC_PUBLISHER,
    '--key',
    fx.key.publicKeyFile,
  );
  assert.equal(trusted.status, 0, trusted.stderr);
  await fx.agent.startGcService({ AZCMAGENT_GC_FREQUENCY_SECONDS: '600' });
  return ref.name;
}

/** Changes one extension's settings and assigns one guest configuration; both must arrive. */
async function changeBoth(fx: ExtensionFixture, configuration: string): Promise<void> {
  for (const words of ['first settings', 'second settings']) {
    const deployed = await fx.deploy('notice', {
      ...CUSTOM_SCRIPT,
      typeHandlerVersion: customScriptHandlerVersion(),
      settings: { commandToExecute: `echo ${words}` },
    });
    assert.ok(deployed.ok, JSON.stringify(deployed.error));
    assert.equal(deployed.result?.properties?.provisioningState, 'Succeeded');
    assert.match(
      deployed.result?.properties?.instanceView?.status?.message ?? '',
      new RegExp(words),
    );
  }
  const path = `${fx.agent.machinePath}/providers/Microsoft.GuestConfiguration/guestConfigurationAssignments/${configuration}?${GC_API}`;
  fx.plane.admin.forgetToken();
  const put = await fx.plane.admin.call('PUT', path, {
    body: { properties: { guestConfiguration: { name: configuration, assignmentType: 'Audit' } } },
  });
  assert.ok(put.status === 200 || put.status === 201, JSON.stringify(put.body));
  // Evaluated by the agent: the service fetched the new goal state, downloaded and ran it.
  await waitFor('the assignment evaluated by the agent', async () => {
    const got = await fx.plane.admin.call('GET', path);
    const status = (got.body['properties'] as { complianceStatus?: string } | undefined)
      ?.complianceStatus;
    return status === 'Compliant' || status === 'NonCompliant' ? status : undefined;
  });
}

void describe('goal-state changes reach the agent', { skip: ROOT_ONLY, timeout: 300_000 }, () => {
  const fixtures: ExtensionFixture[] = [];
  after(async () => {
    for (const fx of fixtures) await fx.stop();
  });

  void test('by notice over the agent channel, with no long poll held at the control plane', async () => {
    const fx = await startExtensionFixture({ machine: 'notice-01' });
    fixtures.push(fx);
    const configuration = await withGuestConfiguration(fx);
    await waitFor('both services on notices', () =>
      /extension: goal-state changes come as notices/.test(fx.agent.logs()) &&
      /gc: goal-state changes come as notices/.test(fx.agent.logs())
        ? true
        : undefined,
    );
    const from = fx.plane.logs().length;
    await changeBoth(fx, configuration);
    const requests = goalStateRequests(fx.plane, 'notice-01', from);
    assert.ok(
      requests.some((url) => url.includes('/extensionGoalState?')) &&
        requests.some((url) => url.includes(GUEST_CONFIGURATION_GOAL_STATE_PATH)),
      `both goal states were fetched: ${requests.join('\n')}`,
    );
    assert.deepEqual(
      requests.filter((url) => /[?&]after=/.test(url)),
      [],
      'no long poll',
    );
    const shown = await fx.azcmagent('show');
    assert.match(shown.stdout, /extensionservice \(running; goal-state changes by notice\)/);
  });

  void test('by long poll when the control plane has no agent channel', async () => {
    const fx = await startExtensionFixture({
      machine: 'poll-01',
      serverArgs: ['--no-agent-channel'],
    });
    fixtures.push(fx);
    const configuration = await withGuestConfiguration(fx);
    await waitFor('both services on long polls', () =>
      /extension: goal-state changes come by long poll/.test(fx.agent.logs()) &&
      /gc: goal-state changes come by long poll/.test(fx.agent.logs())
        ? true
        : undefined,
    );
    const from = fx.plane.logs().length;
    await changeBoth(fx, configuration);
    const requests = goalStateRequests(fx.plane, 'poll-01', from);
    assert.ok(
      requests.some((url) => /extensionGoalState\?.*after=/.test(url)),
      `the extension goal state long-polled: ${requests.join('\n')}`,
    );
  });
});
