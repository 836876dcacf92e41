// The door rule as a table: each row a reported configuration and what each door must say.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseExtensionName, type AgentConfiguration } from '@tether/protocol';
import { decideDoors, type DoorName } from './root-doors.js';
import {
  EXTENSION_CAPABILITIES,
  isScriptCapable,
  knownCapability,
} from './script-capable-extensions.js';

function config(overrides: {
  allow?: string[];
  block?: string[];
  extensions?: 'true' | 'false';
  gc?: 'true' | 'false';
  mode?: 'full' | 'monitor';
}): AgentConfiguration {
  return {
    extensionsAllowList: (overrides.allow ?? []).map(parseExtensionName),
    extensionsBlockList: (overrides.block ?? []).map(parseExtensionName),
    extensionsEnabled: overrides.extensions ?? 'true',
    guestConfigurationEnabled: overrides.gc ?? 'true',
    configMode: overrides.mode ?? 'full',
    proxyUrl: '',
    proxyBypass: [],
    incomingConnectionsPorts: [],
    incomingConnectionsEnabled: 'true',
  };
}

const SCRIPT = 'Microsoft.Azure.Extensions/CustomScript';
const AMA = 'Microsoft.Azure.Monitor/AzureMonitorLinuxAgent';
const MONITOR_LIST = [
  AMA,
  'Microsoft.Azure.Monitoring.DependencyAgent/DependencyAgentLinux',
  'Qualys/LinuxAgent.AzureSecurityCenter',
];

interface Row {
  name: string;
  reported: AgentConfiguration | undefined;
  extensions: RegExp | 'open';
  guestConfiguration: RegExp | 'open';
  extensionsOpenBecause?: RegExp;
}

const ROWS: Row[] = [
  {
    name: 'never reported: every door its settings could close is open',
    reported: undefined,
    extensions: 'open',
    guestConfiguration: 'open',
    extensionsOpenBecause: /never reported/,
  },
  {
    name: 'defaults: no allowlist, guest configuration on',
    reported: config({}),
    extensions: 'open',
    guestConfiguration: 'open',
    extensionsOpenBecause: /no allowlist is set: any extension may be installed/,
  },
  {
    name: 'a blocklist alone never closes the extension door',
    reported: config({ block: [SCRIPT, 'Microsoft.CPlat.Core/RunCommandLinux'] }),
    extensions: 'open',
    guestConfiguration: 'open',
    extensionsOpenBecause: /a blocklist cannot name every script-capable type/,
  },
  {
    name: 'extensions disabled',
    reported: config({ extensions: 'false', allow: [SCRIPT] }),
    extensions: /^extensions\.enabled is false/,
    guestConfiguration: 'open',
  },
  {
    name: 'Allow/None in full mode, even beside a script runner',
    reported: config({ allow: ['Allow/None', SCRIPT] }),
    extensions: /^extensions\.allowlist is Allow\/None/,
    guestConfiguration: 'open',
  },
  {
    name: 'an allowlist of the monitoring agent only (the seed example)',
    reported: config({ allow: [AMA] }),
    extensions:
      /^extensions\.allowlist admits no script-capable extension \(it allows Microsoft\.Azure\.Monitor\/AzureMonitorLinuxAgent\)$/,
    guestConfiguration: 'open',
  },
  {
    name: 'an allowlist with CustomScript',
    reported: config({ allow: [AMA, SCRIPT] }),
    extensions: 'open',
    guestConfiguration: 'open',
    extensionsOpenBecause:
      /extensions\.allowlist admits script-capable extension Microsoft\.Azure\.Extensions\/CustomScript$/,
  },
  {
    name: 'names match case-insensitively',
    reported: config({ allow: ['microsoft.azure.extensions/customscript'] }),
    extensions: 'open',
    guestConfiguration: 'open',
  },
  {
    name: 'an unknown type counts as script-capable (fail closed)',
    reported: config({ allow: ['Contoso/Widget'] }),
    extensions: 'open',
    guestConfiguration: 'open',
    extensionsOpenBecause: /Contoso\/Widget/,
  },
  {
    name: 'the blocklist wins over the allowlist',
    reported: config({ allow: [AMA, SCRIPT], block: [SCRIPT] }),
    extensions:
      /admits no script-capable extension once extensions\.blocklist is applied \(it allows Microsoft\.Azure\.Monitor\/AzureMonitorLinuxAgent\)$/,
    guestConfiguration: 'open',
  },
  {
    name: 'every allowed entry blocked',
    reported: config({ allow: [SCRIPT], block: [SCRIPT] }),
    extensions: /admits no script-capable extension once extensions\.blocklist is applied$/,
    guestConfiguration: 'open',
  },
  {
    name: 'guest configuration off',
    reported: config({ gc: 'false' }),
    extensions: 'open',
    guestConfiguration: /^guestconfiguration\.enabled is false/,
  },
  {
    name: 'monitor mode: the vendor allowlist and guest configuration off close both doors',
    reported: config({ mode: 'monitor', allow: MONITOR_LIST, gc: 'false' }),
    extensions: /^monitor mode's vendor allowlist admits no script-capable extension$/,
    guestConfiguration: /^monitor mode turns guest configuration off$/,
  },
  {
    name: 'monitor mode with a script runner reported in its list stays open',
    reported: config({ mode: 'monitor', allow: [...MONITOR_LIST, SCRIPT], gc: 'false' }),
    extensions: 'open',
    guestConfiguration: /monitor mode/,
  },
  {
    name: 'Allow/None counts only in full mode, as the agent decides',
    reported: config({ mode: 'monitor', allow: ['Allow/None'], gc: 'false' }),
    extensions: 'open',
    guestConfiguration: /monitor mode/,
  },
  {
    name: 'fully locked down: extensions off and guest configuration off',
    reported: config({ extensions: 'false', gc: 'false' }),
    extensions: /extensions\.enabled is false/,
    guestConfiguration: /guestconfiguration\.enabled is false/,
  },
];

void describe('root doors', () => {
  for (const row of ROWS) {
    void it(row.name, () => {
      const doors = decideDoors(row.reported);
      assert.deepEqual(
        doors.map((d) => d.name),
        ['extensions', 'guestConfiguration', 'machineWrite'],
      );
      const door = (name: DoorName) => doors.find((d) => d.name === name);
      for (const name of ['extensions', 'guestConfiguration'] as const) {
        const expected = row[name];
        const actual = door(name);
        assert.ok(actual !== undefined);
        if (expected === 'open') {
          assert.equal(actual.open, true, `${name}: ${actual.closedBy ?? ''}`);
          assert.equal(actual.closedBy, null);
          assert.ok(actual.openBecause !== null && actual.openBecause.length > 0);
        } else {
          assert.equal(actual.open, false, `${name} should be closed: ${actual.openBecause ?? ''}`);
          assert.match(actual.closedBy ?? '', expected);
          assert.equal(actual.openBecause, null);
        }
      }
      if (row.extensionsOpenBecause !== undefined) {
        assert.match(door('extensions')?.openBecause ?? '', row.extensionsOpenBecause);
      }
      // Overwriting a machine replaces its identity and cuts the server off: never a door.
      assert.equal(door('machineWrite')?.open, false);
      assert.match(door('machineWrite')?.closedBy ?? '', /re-onboarding/);
    });
  }
});

void describe('script-capable extension table', () => {
  void it('lists each type once, with a reason', () => {
    const names = EXTENSION_CAPABILITIES.map((e) => e.name.toLowerCase());
    assert.equal(new Set(names).size, names.length);
    for (const entry of EXTENSION_CAPABILITIES) assert.ok(entry.why.length > 10, entry.name);
  });

  void it('marks script runners capable, monitoring agents not, and unknown types capable', () => {
    const capable = (name: string) => isScriptCapable(parseExtensionName(name));
    assert.equal(capable(SCRIPT), true);
    assert.equal(capable('Microsoft.CPlat.Core/RunCommandHandlerLinux'), true);
    assert.equal(capable('Microsoft.OSTCExtensions/VMAccessForLinux'), true);
    assert.equal(capable(AMA), false);
    assert.equal(capable('microsoft.azure.monitor/azuremonitorlinuxagent'), false);
    assert.equal(capable('Contoso/Widget'), true);
    assert.equal(knownCapability(parseExtensionName('Contoso/Widget')), undefined);
  });
});
