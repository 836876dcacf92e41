// The agent upgrade decision, row by row: the local setting and an unusable config refuse, an
// older version is refused, the same version succeeds at once, a checkout cannot be upgraded,
// and a request already answered is not answered twice; with no key trusted for agent packages,
// or a signature no trusted key made, nothing is installed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AgentUpgradeGoal } from '@tether/protocol/agent-upgrade';
import type { LoadedConfig } from '../config/local-config-file.js';
import { defaultConfig } from '../config/property-table.js';
import { agentPaths } from '../paths.js';
import { decideUpgrade, type UpgradeSituation } from './upgrade-decision.js';

const paths = agentPaths('/tmp/tether-decision-root');
const config = (enabled: boolean): LoadedConfig => ({
  state: 'ok',
  paths,
  stored: {},
  settings: { ...defaultConfig(), 'agentupgrade.enabled': enabled },
  bytes: null,
});
const goal: AgentUpgradeGoal = {
  version: '1.2.0',
  sha256: 'a'.repeat(64),
  size: 10,
  signature: 'header.payload.signature',
  downloadPath: '/providers/Tether.Agent/packages/1.2.0/content?api-version=2024-07-10',
  correlationId: '6f1c2f4e-0a55-4c4e-9d55-1f3b2a1c0d9e',
};
const base: UpgradeSituation = {
  goal,
  runningVersion: '1.1.0',
  notPackaged: undefined,
  config: config(true),
  record: undefined,
  signature: { kind: 'verified' },
};

void describe('decideUpgrade', () => {
  const rows: [string, Partial<UpgradeSituation>, string, RegExp?][] = [
    ['no goal', { goal: null }, 'none'],
    ['a newer published version, from the package', {}, 'install'],
    ['turned off locally', { config: config(false) }, 'Failed', /agentupgrade\.enabled is false/],
    [
      'an unusable localconfig.json (fail closed)',
      { config: { state: 'corrupt', paths, reason: 'not JSON' } },
      'Failed',
      /cannot be used \(not JSON\)/,
    ],
    [
      'no key trusted for agent packages',
      { signature: { kind: 'no-keys' } },
      'Failed',
      /no key is trusted for agent packages on this machine: azcmagent upgrade trust --key/,
    ],
    [
      'a signature not made by a trusted key',
      { signature: { kind: 'refused', reason: 'not made by a key trusted for agent packages' } },
      'Failed',
      /signature is not accepted \(not made by a key trusted for agent packages\); nothing was installed/,
    ],
    [
      'the local setting is named before the keys',
      { config: config(false), signature: { kind: 'no-keys' } },
      'Failed',
      /agentupgrade\.enabled is false/,
    ],
    [
      'no key, but nothing to install',
      { runningVersion: '1.2.0', signature: { kind: 'no-keys' } },
      'Success',
      /already runs version 1\.2\.0/,
    ],
    [
      'an untrusted signature for an older version',
      { runningVersion: '1.10.0', signature: { kind: 'refused', reason: 'x' } },
      'Failed',
      /signature is not accepted/,
    ],
    ['the version it runs', { runningVersion: '1.2.0' }, 'Success', /already runs version 1\.2\.0/],
    ['an older version', { runningVersion: '1.10.0' }, 'Failed', /never downgraded/],
    [
      'a checkout',
      { notPackaged: '/src/bin/azcmagent.cjs' },
      'Failed',
      /not installed from a package/,
    ],
    [
      'a request already answered',
      {
        record: {
          correlationId: goal.correlationId,
          version: '1.2.0',
          state: 'done',
          reported: true,
        },
      },
      'none',
    ],
    [
      'the restart after its own install',
      {
        runningVersion: '1.2.0',
        record: {
          correlationId: goal.correlationId,
          version: '1.2.0',
          state: 'installing',
          reported: false,
        },
      },
      'Success',
      /runs version 1\.2\.0/,
    ],
    [
      'an install that did not finish',
      {
        record: {
          correlationId: goal.correlationId,
          version: '1.2.0',
          state: 'installing',
          reported: false,
        },
      },
      'Failed',
      /did not finish/,
    ],
    [
      'a new request after an answered one',
      { record: { correlationId: 'another', version: '1.2.0', state: 'done', reported: true } },
      'install',
    ],
  ];
  for (const [name, change, expected, message] of rows) {
    void it(name, () => {
      const decision = decideUpgrade({ ...base, ...change });
      const got = decision.kind === 'report' ? decision.status : decision.kind;
      assert.equal(got, expected);
      if (message !== undefined) {
        assert.ok(decision.kind === 'report');
        assert.match(decision.message, message);
      }
    });
  }
  void it('the local setting refuses a downgrade and a checkout too, naming itself', () => {
    for (const change of [{ runningVersion: '2.0.0' }, { notPackaged: '/src' }]) {
      const decision = decideUpgrade({ ...base, ...change, config: config(false) });
      assert.ok(decision.kind === 'report' && /agentupgrade\.enabled/.test(decision.message));
    }
  });
  void it('the version it runs is a success even when upgrades are turned off', () => {
    const decision = decideUpgrade({ ...base, config: config(false), runningVersion: '1.2.0' });
    assert.ok(decision.kind === 'report' && decision.status === 'Success');
  });
});
