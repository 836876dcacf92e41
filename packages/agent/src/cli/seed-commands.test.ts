// Every `azcmagent config` command of the seed document, verbatim, run with the real CLI under
// a temporary AZCMAGENT_ROOT; each scenario ends in the state the seed describes.
import { parseExtensionName } from '@tether/protocol';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadLocalConfig, type LoadedConfig } from '../config/local-config-file.js';
import { effectiveSettings } from '../effective-settings.js';
import { decideExtensionOperation, type ExtensionOperation } from '../extension-policy.js';
import { MONITOR_MODE_ALLOWLIST } from '../monitor-mode-allowlist.js';
import { azcmagentArgs, ROOT_ONLY, runAzcmagent } from '../test-support/azcmagent-process.js';
import { makeTempRoot } from '../test-support/temp-root.js';

/** Copied verbatim from the seed, in its order, grouped by the scenario each belongs to. */
const SEED_SCENARIOS: readonly {
  name: string;
  commands: readonly string[];
  expect: (state: LoadedConfig) => void;
}[] = [
  {
    name: 'allowlist: Azure Monitor agent only',
    commands: [
      'azcmagent config set extensions.allowlist "Microsoft.Azure.Monitor/AzureMonitorLinuxAgent"',
    ],
    expect: (state) => {
      assert.deepEqual(allowlist(state), ['Microsoft.Azure.Monitor/AzureMonitorLinuxAgent']);
      assert.equal(
        allowed(state, 'install', 'Microsoft.Azure.Monitor/AzureMonitorLinuxAgent'),
        true,
      );
      assert.equal(allowed(state, 'install', 'Microsoft.Azure.Extensions/CustomScript'), false);
      assert.equal(allowed(state, 'remove', 'Microsoft.Azure.Extensions/CustomScript'), true);
    },
  },
  {
    name: 'blocklist: custom script for Linux',
    commands: [
      'azcmagent config set extensions.blocklist "Microsoft.Azure.Extensions/CustomScript"',
    ],
    expect: (state) => {
      assert.deepEqual(blocklist(state), ['Microsoft.Azure.Extensions/CustomScript']);
      for (const op of ['install', 'update', 'upgrade'] as const) {
        assert.equal(allowed(state, op, 'Microsoft.Azure.Extensions/CustomScript'), false);
      }
      assert.equal(allowed(state, 'remove', 'Microsoft.Azure.Extensions/CustomScript'), true);
      assert.equal(
        allowed(state, 'install', 'Microsoft.Azure.Monitor/AzureMonitorLinuxAgent'),
        true,
      );
    },
  },
  {
    name: 'Allow/None: extension manager runs, installs nothing',
    commands: ['azcmagent config set extensions.allowlist "Allow/None"'],
    expect: (state) => {
      assert.deepEqual(allowlist(state), ['Allow/None']);
      assert.equal(settings(state)['extensions.enabled'], true);
      assert.equal(
        allowed(state, 'install', 'Microsoft.Azure.Monitor/AzureMonitorWindowsAgent'),
        false,
      );
      assert.equal(
        allowed(state, 'remove', 'Microsoft.Azure.Monitor/AzureMonitorWindowsAgent'),
        true,
      );
    },
  },
  {
    name: 'guest configuration disabled',
    commands: ['azcmagent config set guestconfiguration.enabled false'],
    expect: (state) => {
      assert.equal(settings(state)['guestconfiguration.enabled'], false);
      assert.equal(effectiveSettings(settings(state)).guestConfigurationEnabled, false);
    },
  },
  {
    name: 'extension manager disabled',
    commands: ['azcmagent config set extensions.enabled false'],
    expect: (state) => {
      assert.equal(settings(state)['extensions.enabled'], false);
      for (const op of ['install', 'update', 'upgrade', 'remove'] as const) {
        assert.equal(allowed(state, op, 'Microsoft.Azure.Monitor/AzureMonitorLinuxAgent'), false);
      }
    },
  },
  {
    name: 'Azure Monitor agent only (Windows)',
    commands: [
      'azcmagent config set extensions.allowlist "Microsoft.Azure.Monitor/AzureMonitorWindowsAgent"',
      'azcmagent config set guestconfiguration.enabled false',
    ],
    expect: (state) => {
      assert.deepEqual(allowlist(state), ['Microsoft.Azure.Monitor/AzureMonitorWindowsAgent']);
      assert.equal(settings(state)['guestconfiguration.enabled'], false);
    },
  },
  {
    name: 'Azure Monitor agent only (Linux)',
    commands: [
      'sudo azcmagent config set extensions.allowlist "Microsoft.Azure.Monitor/AzureMonitorLinuxAgent"',
      'sudo azcmagent config set guestconfiguration.enabled false',
    ],
    expect: (state) => {
      assert.deepEqual(allowlist(state), ['Microsoft.Azure.Monitor/AzureMonitorLinuxAgent']);
      assert.equal(settings(state)['guestconfiguration.enabled'], false);
    },
  },
  {
    name: 'Log Analytics and dependency agent (Windows)',
    commands: [
      'azcmagent config set extensions.allowlist "Microsoft.EnterpriseCloud.Monitoring/MicrosoftMonitoringAgent,Microsoft.Azure.Monitoring.DependencyAgent/DependencyAgentWindows"',
      'azcmagent config set guestconfiguration.enabled false',
    ],
    expect: (state) => {
      assert.deepEqual(allowlist(state), [
        'Microsoft.EnterpriseCloud.Monitoring/MicrosoftMonitoringAgent',
        'Microsoft.Azure.Monitoring.DependencyAgent/DependencyAgentWindows',
      ]);
      assert.equal(
        allowed(
          state,
          'install',
          'Microsoft.Azure.Monitoring.DependencyAgent/DependencyAgentWindows',
        ),
        true,
      );
      assert.equal(settings(state)['guestconfiguration.enabled'], false);
    },
  },
  {
    name: 'Log Analytics and dependency agent (Linux)',
    commands: [
      'sudo azcmagent config set extensions.allowlist "Microsoft.EnterpriseCloud.Monitoring/OMSAgentForLinux,Microsoft.Azure.Monitoring.DependencyAgent/DependencyAgentLinux"',
      'sudo azcmagent config set guestconfiguration.enabled false',
    ],
    expect: (state) => {
      assert.deepEqual(allowlist(state), [
        'Microsoft.EnterpriseCloud.Monitoring/OMSAgentForLinux',
        'Microsoft.Azure.Monitoring.DependencyAgent/DependencyAgentLinux',
      ]);
      assert.equal(settings(state)['guestconfiguration.enabled'], false);
    },
  },
  {
    name: 'monitoring and security (Windows)',
    commands: [
      'azcmagent config set extensions.allowlist "Microsoft.EnterpriseCloud.Monitoring/MicrosoftMonitoringAgent,Qualys/WindowsAgent.AzureSecurityCenter,Microsoft.Azure.AzureDefenderForServers/MDE.Windows,Microsoft.Azure.AzureDefenderForSQL/AdvancedThreatProtection.Windows"',
      'azcmagent config set guestconfiguration.enabled true',
    ],
    expect: (state) => {
      assert.deepEqual(allowlist(state), [
        'Microsoft.EnterpriseCloud.Monitoring/MicrosoftMonitoringAgent',
        'Qualys/WindowsAgent.AzureSecurityCenter',
        'Microsoft.Azure.AzureDefenderForServers/MDE.Windows',
        'Microsoft.Azure.AzureDefenderForSQL/AdvancedThreatProtection.Windows',
      ]);
      assert.equal(settings(state)['guestconfiguration.enabled'], true);
    },
  },
  {
    name: 'monitoring and security (Linux)',
    commands: [
      'sudo azcmagent config set extensions.allowlist "Microsoft.EnterpriseCloud.Monitoring/OMSAgentForLinux,Qualys/LinuxAgent.AzureSecurityCenter,Microsoft.Azure.AzureDefenderForServers/MDE.Linux"',
      'sudo azcmagent config set guestconfiguration.enabled true',
    ],
    expect: (state) => {
      assert.deepEqual(allowlist(state), [
        'Microsoft.EnterpriseCloud.Monitoring/OMSAgentForLinux',
        'Qualys/LinuxAgent.AzureSecurityCenter',
        'Microsoft.Azure.AzureDefenderForServers/MDE.Linux',
      ]);
      assert.equal(
        allowed(state, 'upgrade', 'Microsoft.Azure.AzureDefenderForServers/MDE.Linux'),
        true,
      );
      assert.equal(
        allowed(state, 'install', 'Microsoft.Azure.AzureDefenderForServers/MDE.Windows'),
        false,
      );
      assert.equal(settings(state)['guestconfiguration.enabled'], true);
    },
  },
  {
    name: 'monitor mode, checked with config list, then back to full',
    commands: [
      'azcmagent config set config.mode monitor',
      'azcmagent config list',
      'azcmagent config set config.mode full',
    ],
    expect: (state) => {
      assert.equal(settings(state)['config.mode'], 'full');
      assert.equal(allowed(state, 'install', 'Microsoft.Azure.Extensions/CustomScript'), true);
    },
  },
];

function settings(state: LoadedConfig) {
  if (state.state !== 'ok') throw new Error(`local config is corrupt: ${state.reason}`);
  return state.settings;
}
const allowlist = (state: LoadedConfig): string[] =>
  settings(state)['extensions.allowlist'].map((n) => `${n.publisher}/${n.type}`);
const blocklist = (state: LoadedConfig): string[] =>
  settings(state)['extensions.blocklist'].map((n) => `${n.publisher}/${n.type}`);
const allowed = (state: LoadedConfig, op: ExtensionOperation, name: string): boolean =>
  decideExtensionOperation(state, op, parseExtensionName(name)).allowed;

void describe('the seed document, verbatim', { skip: ROOT_ONLY }, () => {
  for (const scenario of SEED_SCENARIOS) {
    void test(scenario.name, async () => {
      const temp = makeTempRoot();
      try {
        for (const line of scenario.commands) {
          const args = azcmagentArgs(line);
          const result = await runAzcmagent(temp.root, args);
          assert.equal(result.status, 0, `${line}\n${result.stderr}`);
          assert.equal(result.stderr, '', line);
          if (args[1] === 'set') {
            assert.match(
              result.stdout,
              new RegExp(`^Config property ${args[2]?.replace(/\./g, '\\.') ?? ''} set to value `),
            );
          }
        }
        scenario.expect(loadLocalConfig(temp.paths));
      } finally {
        temp.remove();
      }
    });
  }

  void test('in monitor mode, config list shows the mode and the effective allowlist', async () => {
    const temp = makeTempRoot();
    try {
      assert.equal(
        (await runAzcmagent(temp.root, azcmagentArgs('azcmagent config set config.mode monitor')))
          .status,
        0,
      );
      const list = await runAzcmagent(temp.root, azcmagentArgs('azcmagent config list'));
      assert.equal(list.status, 0, list.stderr);
      assert.match(list.stdout, /^ {2}config\.mode {43}: monitor$/m);
      for (const name of MONITOR_MODE_ALLOWLIST) {
        assert.ok(
          list.stdout.includes(`${name.publisher}/${name.type}`),
          `${name.publisher}/${name.type} listed`,
        );
      }
      assert.match(list.stdout, /^ {2}guestconfiguration\.enabled {28}: false$/m);
    } finally {
      temp.remove();
    }
  });
});
