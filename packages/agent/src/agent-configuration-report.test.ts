// The heartbeat's agentConfiguration reports what is in force, and passes the control plane's validator.
import { parseAgentConfiguration } from '@tether/protocol';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { agentConfigurationReport } from './agent-configuration-report.js';
import { MONITOR_MODE_ALLOWLIST } from './monitor-mode-allowlist.js';
import { loadedFromJson } from './test-support/loaded-config.js';

function settings(json: Record<string, unknown>) {
  const loaded = loadedFromJson(json);
  if (loaded.state !== 'ok') throw new Error('fixture must be valid');
  return loaded.settings;
}

void describe('agentConfigurationReport', () => {
  void test('full mode reports the local lists and settings as strings', () => {
    const report = agentConfigurationReport(
      settings({
        'extensions.allowlist': ['Microsoft.Azure.Monitor/AzureMonitorLinuxAgent'],
        'extensions.blocklist': ['Microsoft.Azure.Extensions/CustomScript'],
        'guestconfiguration.enabled': false,
        'proxy.url': 'http://proxy:3128',
        'proxy.bypass': ['Arc'],
        'incomingconnections.ports': [22, 6516],
      }),
    );
    assert.deepEqual(report, {
      extensionsAllowList: [
        { publisher: 'Microsoft.Azure.Monitor', type: 'AzureMonitorLinuxAgent' },
      ],
      extensionsBlockList: [{ publisher: 'Microsoft.Azure.Extensions', type: 'CustomScript' }],
      extensionsEnabled: 'true',
      guestConfigurationEnabled: 'false',
      configMode: 'full',
      proxyUrl: 'http://proxy:3128',
      proxyBypass: ['Arc'],
      incomingConnectionsPorts: ['22', '6516'],
      incomingConnectionsEnabled: 'true',
    });
    assert.deepEqual(parseAgentConfiguration(JSON.parse(JSON.stringify(report))), report);
  });

  void test('monitor mode reports the managed allowlist and guest configuration and incoming connections off', () => {
    const report = agentConfigurationReport(
      settings({
        'config.mode': 'monitor',
        'extensions.allowlist': ['A/B'],
        'guestconfiguration.enabled': true,
      }),
    );
    assert.equal(report.configMode, 'monitor');
    assert.equal(report.guestConfigurationEnabled, 'false');
    assert.equal(report.incomingConnectionsEnabled, 'false');
    assert.equal(report.extensionsAllowList.length, MONITOR_MODE_ALLOWLIST.length);
    assert.ok(!report.extensionsAllowList.some((e) => e.publisher === 'A'));
  });

  void test('defaults report empty lists, everything enabled', () => {
    const report = agentConfigurationReport(settings({}));
    assert.deepEqual(report.extensionsAllowList, []);
    assert.equal(report.extensionsEnabled, 'true');
    assert.equal(report.proxyUrl, '');
  });
});
