// The S8 decision table cell by cell for all four operations, plus Allow/None, extensions
// disabled, monitor mode and a corrupt local configuration.
import { parseExtensionName } from '@tether/protocol';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  decideExtensionOperation,
  type ExtensionOperation,
  type PolicyDecision,
} from './extension-policy.js';
import { MONITOR_MODE_ALLOWLIST } from './monitor-mode-allowlist.js';
import { corruptLoaded, loadedFromJson } from './test-support/loaded-config.js';

const OPERATIONS: readonly ExtensionOperation[] = ['install', 'update', 'upgrade', 'remove'];
const TARGET = 'Contoso.Tools/Inventory';
const OTHER = 'Contoso.Tools/Backup';

type Cell = 'allow' | 'block';
/** Columns of SPEC §2: where the requested extension appears, with the lists as configured. */
const COLUMNS: readonly { name: string; config: Record<string, unknown> }[] = [
  { name: 'in allowlist', config: { 'extensions.allowlist': [TARGET, OTHER] } },
  { name: 'in blocklist', config: { 'extensions.blocklist': [TARGET] } },
  {
    name: 'in both',
    config: { 'extensions.allowlist': [TARGET], 'extensions.blocklist': [TARGET] },
  },
  { name: 'in neither, allowlist set', config: { 'extensions.allowlist': [OTHER] } },
];
const TABLE: { readonly [O in ExtensionOperation]: readonly Cell[] } = {
  install: ['allow', 'block', 'block', 'block'],
  update: ['allow', 'block', 'block', 'block'],
  upgrade: ['allow', 'block', 'block', 'block'],
  remove: ['allow', 'allow', 'allow', 'allow'],
};

function decide(
  config: Record<string, unknown>,
  operation: ExtensionOperation,
  name = TARGET,
): PolicyDecision {
  return decideExtensionOperation(loadedFromJson(config), operation, parseExtensionName(name));
}

function assertRefused(decision: PolicyDecision, code: string, reason: RegExp): void {
  assert.equal(decision.allowed, false, 'expected a refusal');
  if (decision.allowed) return;
  assert.equal(decision.code, code);
  assert.match(decision.reason, reason);
}

void describe('S8 decision table', () => {
  for (const operation of OPERATIONS) {
    COLUMNS.forEach((column, index) => {
      const expected = TABLE[operation][index];
      void test(`${operation}, ${column.name}: ${expected}`, () => {
        const decision = decide(column.config, operation);
        assert.equal(decision.allowed, expected === 'allow', JSON.stringify(decision));
      });
    });
  }

  void test('with no list set, every operation is allowed', () => {
    for (const operation of OPERATIONS) assert.equal(decide({}, operation).allowed, true);
  });

  void test('a blocklist alone leaves other extensions allowed', () => {
    assert.deepEqual(decide({ 'extensions.blocklist': [OTHER] }, 'install'), {
      allowed: true,
      basis: 'no-allowlist',
    });
  });

  void test('refusals name the rule and the fix', () => {
    assertRefused(
      decide({ 'extensions.blocklist': [TARGET] }, 'upgrade'),
      'ERR_EXTENSION_BLOCKED',
      /^Extension Contoso\.Tools\/Inventory cannot be upgraded: it is in the local blocklist \(extensions\.blocklist\).*'sudo azcmagent config set extensions\.blocklist Contoso\.Tools\/Inventory --remove'/,
    );
    assertRefused(
      decide({ 'extensions.allowlist': [OTHER] }, 'update'),
      'ERR_EXTENSION_NOT_ALLOWED',
      /cannot be updated: a local allowlist is set \(extensions\.allowlist\) and it is not in it\. .*--add'/,
    );
  });

  void test('names match case-insensitively and exactly, never by prefix or substring', () => {
    const config = { 'extensions.allowlist': ['Microsoft.Azure.Monitor/AzureMonitorLinuxAgent'] };
    assert.equal(
      decide(config, 'install', 'MICROSOFT.AZURE.MONITOR/azuremonitorlinuxagent').allowed,
      true,
    );
    for (const near of [
      'Microsoft.Azure.Monitor/AzureMonitorLinux',
      'Microsoft.Azure.Monitor/AzureMonitorLinuxAgent2',
      'Microsoft.Azure/AzureMonitorLinuxAgent',
      'Microsoft.Azure.Monitor.Extra/AzureMonitorLinuxAgent',
    ]) {
      assert.equal(decide(config, 'install', near).allowed, false, near);
    }
    const blocked = { 'extensions.blocklist': ['microsoft.azure.extensions/customscript'] };
    assert.equal(
      decide(blocked, 'install', 'Microsoft.Azure.Extensions/CustomScript').allowed,
      false,
    );
  });
});

void describe('Allow/None', () => {
  for (const operation of ['install', 'update', 'upgrade'] as const) {
    void test(`refuses ${operation} of any extension`, () => {
      assertRefused(
        decide({ 'extensions.allowlist': ['Allow/None'] }, operation),
        'ERR_EXTENSION_NOT_ALLOWED',
        /the local allowlist is Allow\/None, which allows no extensions/,
      );
    });
  }
  void test('still allows removal', () => {
    assert.equal(decide({ 'extensions.allowlist': ['Allow/None'] }, 'remove').allowed, true);
  });
  void test('is not itself an installable extension', () => {
    assert.equal(
      decide({ 'extensions.allowlist': ['Allow/None'] }, 'install', 'Allow/None').allowed,
      false,
    );
  });
});

void describe('extensions.enabled false', () => {
  for (const operation of OPERATIONS) {
    void test(`refuses ${operation}, whatever the lists say`, () => {
      for (const config of [{}, { 'extensions.allowlist': [TARGET] }]) {
        assertRefused(
          decide({ ...config, 'extensions.enabled': false }, operation),
          'ERR_EXTENSIONS_DISABLED',
          /the extension manager is disabled on this server \(extensions\.enabled is false\), so no extension operations run\. .*extensions\.enabled true/,
        );
      }
    });
  }
  void test('guest configuration has no bearing on extensions', () => {
    assert.equal(decide({ 'guestconfiguration.enabled': false }, 'install').allowed, true);
  });
});

void describe('monitor mode', () => {
  const monitor = { 'config.mode': 'monitor' };
  void test('allows every vendor-managed monitoring and security extension', () => {
    for (const name of MONITOR_MODE_ALLOWLIST) {
      const text = `${name.publisher}/${name.type}`;
      assert.deepEqual(decide(monitor, 'install', text), {
        allowed: true,
        basis: 'in-monitor-mode-allowlist',
      });
    }
  });
  void test('refuses anything else, including custom script, even if the user allowlisted it', () => {
    const config = {
      ...monitor,
      'extensions.allowlist': ['Microsoft.Azure.Extensions/CustomScript'],
    };
    for (const operation of ['install', 'update', 'upgrade'] as const) {
      assertRefused(
        decide(config, operation, 'Microsoft.Azure.Extensions/CustomScript'),
        'ERR_EXTENSION_NOT_ALLOWED',
        /the agent is in monitor mode, .*config\.mode full/,
      );
    }
  });
  void test("keeps the administrator's blocklist in force", () => {
    const config = {
      ...monitor,
      'extensions.blocklist': ['Microsoft.Azure.AzureDefenderForServers/MDE.Linux'],
    };
    assertRefused(
      decide(config, 'install', 'Microsoft.Azure.AzureDefenderForServers/MDE.Linux'),
      'ERR_EXTENSION_BLOCKED',
      /local blocklist/,
    );
  });
  void test('allows removal of anything', () => {
    assert.equal(
      decide(monitor, 'remove', 'Microsoft.Azure.Extensions/CustomScript').allowed,
      true,
    );
  });
});

void describe('corrupt local configuration (fail closed)', () => {
  for (const operation of ['install', 'update', 'upgrade'] as const) {
    void test(`refuses ${operation} with the reason and the repair`, () => {
      assertRefused(
        decideExtensionOperation(corruptLoaded(), operation, parseExtensionName(TARGET)),
        'ERR_CONFIG_CORRUPT',
        /local configuration file \/test-root\/var\/opt\/azcmagent\/localconfig\.json cannot be used \(it is not valid JSON .*\).*sudo azcmagent config clear/,
      );
    });
  }
  void test('still allows removal', () => {
    assert.equal(
      decideExtensionOperation(corruptLoaded(), 'remove', parseExtensionName(TARGET)).allowed,
      true,
    );
  });
});
