// Guest configuration end to end: a real control plane, a connected agent whose guest
// configuration service evaluates the built-in Linux baseline (signed by a trusted publisher)
// against a fake server under its root, and every step driven through the unmodified
// @azure/arm-policy, @azure/arm-policyinsights and @azure/arm-hybridcompute SDKs.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { armInput, createResourceGroup, type ClientAnswer } from '../arm/arm-fixtures.js';
import {
  builtInConfigurations,
  connectAgent,
  makePublisherKey,
  publishGuestConfiguration,
  runNodeClient,
  startControlPlane,
  waitFor,
  type ConnectedAgent,
  type ControlPlane,
} from '../harness/index.js';
import { seedServerFiles } from './fake-server-files.js';

const ROOT_ONLY = process.geteuid?.() === 0 ? false : 'azcmagent connect needs root';
const GROUP = 'servers';
const PUBLISHER = 'Contoso.Baselines';
/** Tether's built-in initiative: the baseline, SSH keys and no passwordless accounts. */
const LINUX_SECURITY_INITIATIVE =
  '/providers/Microsoft.Authorization/policySetDefinitions/4d2c9e71-6a3b-48f0-9b15-c7e0a8d3f962';
const ALLOWED_EXTENSIONS_POLICY =
  '/providers/Microsoft.Authorization/policyDefinitions/7b8f4a2e-3c91-4d6b-a0f5-2e9d81c6b437';
const GC_API = 'api-version=2024-04-05';
/** Long, so that only a trigger or a change makes the service evaluate again within the test. */
const FREQUENCY_SECONDS = '600';

interface PolicyState {
  resourceId: string;
  policyAssignmentName: string;
  policyDefinitionReferenceId?: string;
  policyDefinitionAction?: string;
  complianceState?: string;
  isCompliant?: boolean;
}

interface GcAssignment {
  properties: {
    complianceStatus: string;
    provisioningState?: string;
    latestAssignmentReport?: {
      complianceStatus: string;
      resources?: {
        complianceStatus: string;
        resourceId: string;
        reasons?: { phrase: string; code: string }[];
      }[];
    };
  };
}

void describe('guest configuration end to end', { skip: ROOT_ONLY, timeout: 600_000 }, () => {
  let plane: ControlPlane;
  let agent: ConnectedAgent;
  let scratch: string;
  let scope: string;

  const policy = <T>(action: string, extra: Record<string, unknown> = {}) =>
    runNodeClient<ClientAnswer<T>>(
      'arm-policy',
      [armInput(plane, action, extra)],
      plane.clientEnv(),
    );
  const states = async (): Promise<PolicyState[]> => {
    const answer = await runNodeClient<ClientAnswer<PolicyState[]>>(
      'arm-policy-states',
      [armInput(plane, 'queryResourceGroup', { resourceGroup: GROUP })],
      plane.clientEnv(),
    );
    assert.ok(answer.ok, JSON.stringify(answer.error));
    return (answer.result ?? []).filter(
      (s) => s.resourceId.toLowerCase() === agent.machinePath.toLowerCase(),
    );
  };
  const stateOf = (all: PolicyState[], referenceId: string): string | undefined =>
    all.find((s) => s.policyDefinitionReferenceId?.toLowerCase() === referenceId.toLowerCase())
      ?.complianceState;
  const gcAssignment = async (name: string) =>
    plane.admin.call(
      'GET',
      `${agent.machinePath}/providers/Microsoft.GuestConfiguration/guestConfigurationAssignments/${name}?${GC_API}`,
    );
  const assign = (name: string, assignment: Record<string, unknown>) =>
    policy<{ id: string; name: string }>('createAssignment', { scope, name, assignment });

  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'tether-gc-e2e-'));
    plane = await startControlPlane();
    scope = `/subscriptions/${plane.subscriptionId}/resourceGroups/${GROUP}`;
    const key = await makePublisherKey(plane, join(scratch, 'publisher'));
    for (const ref of builtInConfigurations())
      await publishGuestConfiguration(plane, key, PUBLISHER, ref);
    await createResourceGroup(plane, GROUP);
    agent = await connectAgent(plane, { resourceGroup: GROUP, name: 'db-01' });
    // Hardened, except that sshd_config is readable by everyone (baseline rule 5.2.1).
    seedServerFiles(agent.root, { 'etc/ssh/sshd_config': 0o644 });
    const trusted = await agent.run([
      'extension',
      'trust',
      '--publisher',
      PUBLISHER,
      '--key',
      key.publicKeyFile,
    ]);
    assert.equal(trusted.status, 0, trusted.stderr);
    await agent.startHimds();
    await agent.startGcService({ AZCMAGENT_GC_FREQUENCY_SECONDS: FREQUENCY_SECONDS });
  });
  after(async () => {
    await agent?.stop();
    await plane?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  void it('reports the baseline NonCompliant, per rule, after the initiative is assigned', async () => {
    const assigned = await assign('linux-security', {
      displayName: 'Linux security',
      policyDefinitionId: LINUX_SECURITY_INITIATIVE,
    });
    assert.ok(assigned.ok, JSON.stringify(assigned.error));

    const first = await waitFor('the first report of every configuration', async () => {
      const all = await states();
      return all.length === 3 && all.every((s) => s.complianceState !== 'Unknown')
        ? all
        : undefined;
    });
    assert.equal(stateOf(first, 'LinuxSecurityBaseline'), 'NonCompliant');
    assert.equal(stateOf(first, 'LinuxRequireSshKeys'), 'Compliant');
    assert.equal(stateOf(first, 'LinuxNoAccountsWithoutPasswords'), 'Compliant');
    for (const s of first) {
      assert.equal(s.policyAssignmentName, 'linux-security');
      assert.equal(s.policyDefinitionAction, 'auditifnotexists');
    }

    const baseline = await gcAssignment('AzureLinuxBaseline');
    assert.equal(baseline.status, 200, JSON.stringify(baseline.body));
    const properties = (baseline.body as unknown as GcAssignment).properties;
    assert.equal(properties.complianceStatus, 'NonCompliant');
    const failing = (properties.latestAssignmentReport?.resources ?? []).filter(
      (r) => r.complianceStatus === 'NonCompliant',
    );
    assert.equal(failing.length, 1, JSON.stringify(failing));
    assert.match(failing[0]?.resourceId ?? '', /5\.2\.1/);
    assert.deepEqual(
      failing[0]?.reasons?.map((r) => r.code),
      ['file.mode'],
    );
    assert.match(
      failing[0]?.reasons?.[0]?.phrase ?? '',
      /\/etc\/ssh\/sshd_config has mode 0644; expected 0600 or stricter/,
    );
  });

  void it('turns Compliant when the file is fixed and an evaluation is triggered', async () => {
    chmodSync(join(agent.root, 'etc/ssh/sshd_config'), 0o600);
    const triggered = await runNodeClient<ClientAnswer<unknown>>(
      'arm-policy-states',
      [armInput(plane, 'triggerResourceGroupEvaluation', { resourceGroup: GROUP })],
      plane.clientEnv(),
    );
    assert.ok(triggered.ok, JSON.stringify(triggered.error));
    await waitFor('the baseline to be Compliant', async () =>
      stateOf(await states(), 'LinuxSecurityBaseline') === 'Compliant' ? true : undefined,
    );
  });

  void it('shows every configuration NonCompliant, naming the setting, once the machine turns it off', async () => {
    const off = await agent.run(['config', 'set', 'guestconfiguration.enabled', 'false']);
    assert.equal(off.status, 0, off.stderr);
    const all = await waitFor(
      'every guest configuration state to be NonCompliant',
      async () => {
        const now = await states();
        return now.length === 3 && now.every((s) => s.complianceState === 'NonCompliant')
          ? now
          : undefined;
      },
      10_000,
    );
    assert.equal(all.length, 3);
    for (const name of ['AzureLinuxBaseline', 'LinuxNoPasswordForSSH', 'PasswordPolicy_msid110']) {
      const answer = await gcAssignment(name);
      const text = JSON.stringify(answer.body);
      assert.match(text, /guestconfiguration\.enabled/, `${name}: ${text}`);
    }

    const on = await agent.run(['config', 'set', 'guestconfiguration.enabled', 'true']);
    assert.equal(on.status, 0, on.stderr);
    await waitFor(
      'every configuration evaluated again',
      async () => {
        const now = await states();
        return now.length === 3 && now.every((s) => s.complianceState === 'Compliant')
          ? true
          : undefined;
      },
      10_000,
    );
  });

  void it('counts an exemption as Exempt, but not one that has expired', async () => {
    const assignmentId = `${scope}/providers/Microsoft.Authorization/policyAssignments/linux-security`;
    const expired = await policy('createExemption', {
      scope,
      name: 'old-waiver',
      exemption: {
        properties: {
          policyAssignmentId: assignmentId,
          policyDefinitionReferenceIds: ['LinuxRequireSshKeys'],
          exemptionCategory: 'Waiver',
          expiresOn: '2020-01-01T00:00:00Z',
        },
      },
    });
    assert.ok(expired.ok, JSON.stringify(expired.error));
    const waived = await policy('createExemption', {
      scope,
      name: 'baseline-waiver',
      exemption: {
        properties: {
          policyAssignmentId: assignmentId,
          policyDefinitionReferenceIds: ['LinuxSecurityBaseline'],
          exemptionCategory: 'Mitigated',
          displayName: 'Covered by the hardened image',
        },
      },
    });
    assert.ok(waived.ok, JSON.stringify(waived.error));
    const all = await waitFor('the baseline to be Exempt', async () => {
      const now = await states();
      return stateOf(now, 'LinuxSecurityBaseline') === 'Exempt' ? now : undefined;
    });
    assert.equal(stateOf(all, 'LinuxRequireSshKeys'), 'Compliant');
    assert.equal(stateOf(all, 'LinuxNoAccountsWithoutPasswords'), 'Compliant');
  });

  void it('drops the machine from the assignment when notScopes names it', async () => {
    const updated = await assign('linux-security', {
      displayName: 'Linux security',
      policyDefinitionId: LINUX_SECURITY_INITIATIVE,
      notScopes: [agent.machinePath],
    });
    assert.ok(updated.ok, JSON.stringify(updated.error));
    await waitFor('the machine to have no policy states', async () =>
      (await states()).length === 0 ? true : undefined,
    );
    for (const name of ['AzureLinuxBaseline', 'LinuxNoPasswordForSSH', 'PasswordPolicy_msid110']) {
      assert.equal((await gcAssignment(name)).status, 404, name);
    }
  });

  void it('refuses an extension a Deny assignment does not allow, naming the assignment', async () => {
    const assigned = await assign('allowed-extensions', {
      displayName: 'Only the monitoring agent',
      policyDefinitionId: ALLOWED_EXTENSIONS_POLICY,
      parameters: { allowedExtensions: { value: ['AzureMonitorLinuxAgent'] } },
    });
    assert.ok(assigned.ok, JSON.stringify(assigned.error));
    const put = await runNodeClient<ClientAnswer<unknown>>(
      'arm-machine-extensions',
      [
        armInput(plane, 'createOrUpdate', {
          resourceGroup: GROUP,
          machine: agent.name,
          name: 'script',
          extension: {
            location: 'westeurope',
            properties: {
              publisher: 'Microsoft.Azure.Extensions',
              type: 'CustomScript',
              typeHandlerVersion: '2.1',
              settings: { commandToExecute: 'id' },
            },
          },
        }),
      ],
      plane.clientEnv(),
    );
    assert.equal(put.ok, false);
    assert.equal(put.error?.statusCode, 403);
    assert.equal(put.error?.code, 'RequestDisallowedByPolicy');
    assert.match(put.error?.message ?? '', /Only the monitoring agent/);
    assert.match(put.error?.message ?? '', /policyAssignments\/allowed-extensions/i);
    const listed = await plane.admin.call(
      'GET',
      `${agent.machinePath}/extensions?api-version=2021-05-20`,
    );
    assert.deepEqual(listed.body['value'], []);
  });

  void it('answers bad policy input through the SDK with a specific error and changes nothing', async () => {
    // The SDK's PolicyDefinition is flat; it puts these under `properties` on the wire.
    const machineRule = (field: string, effect = 'Audit') => ({
      displayName: 'test',
      mode: 'Indexed',
      policyRule: { if: { field, equals: 'x' }, then: { effect } },
    });
    const cases: {
      name: string;
      action: string;
      input: Record<string, unknown>;
      message: RegExp;
    }[] = [
      {
        name: 'a rule without then',
        action: 'createDefinition',
        input: {
          name: 'no-then',
          definition: { mode: 'Indexed', policyRule: { if: { field: 'type', equals: 'x' } } },
        },
        message: /policyRule.*then|then.*(required|missing)/i,
      },
      {
        name: 'an unknown alias',
        action: 'createDefinition',
        input: {
          name: 'bad-alias',
          definition: machineRule('Microsoft.HybridCompute/machines/noSuchThing'),
        },
        message: /Microsoft\.HybridCompute\/machines\/noSuchThing/,
      },
      {
        name: 'an unknown effect',
        action: 'createDefinition',
        input: { name: 'bad-effect', definition: machineRule('location', 'Explode') },
        message: /Explode/,
      },
      {
        name: 'an exemption for an assignment that does not exist',
        action: 'createExemption',
        input: {
          scope,
          name: 'ghost',
          exemption: {
            properties: {
              policyAssignmentId: `${scope}/providers/Microsoft.Authorization/policyAssignments/no-such-assignment`,
              exemptionCategory: 'Waiver',
            },
          },
        },
        message: /no-such-assignment/,
      },
    ];
    for (const c of cases) {
      const answer = await policy(c.action, c.input);
      assert.equal(answer.ok, false, `${c.name} was accepted`);
      assert.equal(answer.error?.statusCode, 400, `${c.name}: ${JSON.stringify(answer.error)}`);
      assert.match(answer.error?.message ?? '', c.message, c.name);
    }
    for (const name of ['no-then', 'bad-alias', 'bad-effect']) {
      const read = await plane.admin.call(
        'GET',
        `/subscriptions/${plane.subscriptionId}/providers/Microsoft.Authorization/policyDefinitions/${name}?api-version=2024-05-01`,
      );
      assert.equal(read.status, 404, name);
    }
    const exemptions = await policy<{ value: { name: string }[] }>('listExemptions', { scope });
    assert.deepEqual(exemptions.result?.value.map((e) => e.name).sort(), [
      'baseline-waiver',
      'old-waiver',
    ]);
  });
});
