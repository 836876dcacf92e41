// The Linux layout of SPEC §1 under a root prefix, and AZCMAGENT_ROOT handling.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { agentPaths, resolveAgentPaths } from './paths.js';
import { makeTempRoot } from './test-support/temp-root.js';

void describe('agentPaths', () => {
  void test('puts every path of SPEC §1 under the root', () => {
    const paths = agentPaths('/srv/agent1');
    assert.equal(paths.localConfig, '/srv/agent1/var/opt/azcmagent/localconfig.json');
    assert.equal(paths.himdsLog, '/srv/agent1/var/opt/azcmagent/log/himds.log');
    assert.equal(paths.agentLog, '/srv/agent1/var/opt/azcmagent/log/azcmagent.log');
    assert.equal(paths.certsDir, '/srv/agent1/var/opt/azcmagent/certs');
    assert.equal(paths.tokensDir, '/srv/agent1/var/opt/azcmagent/tokens');
    assert.equal(paths.programDir, '/srv/agent1/opt/azcmagent');
    assert.equal(paths.policyLogsDir, '/srv/agent1/var/lib/GuestConfig/arc_policy_logs');
    assert.equal(paths.extensionManagerLogsDir, '/srv/agent1/var/lib/GuestConfig/ext_mgr_logs');
    assert.equal(paths.extensionLogsDir, '/srv/agent1/var/lib/GuestConfig/extension_logs');
    assert.equal(paths.extensionStateFile, '/srv/agent1/var/opt/azcmagent/extensions/state.json');
    assert.equal(
      paths.extensionStateLock,
      '/srv/agent1/var/opt/azcmagent/extensions/state.json.lock',
    );
    assert.equal(paths.trustedPublishersDir, '/srv/agent1/var/opt/azcmagent/trusted-publishers');
    assert.equal(paths.downloadsDir, '/srv/agent1/var/lib/GuestConfig/downloads');
    assert.equal(
      paths.extensionDir('Microsoft.Azure.Monitor', 'AzureMonitorLinuxAgent', '1.33.2'),
      '/srv/agent1/var/lib/waagent/Microsoft.Azure.Monitor.AzureMonitorLinuxAgent-1.33.2',
    );
    assert.equal(agentPaths('/').localConfig, '/var/opt/azcmagent/localconfig.json');
  });

  void test('refuses folder names that could escape the extensions folder', () => {
    const paths = agentPaths('/');
    for (const [publisher, type, version] of [
      ['..', 'x', '1'],
      ['a/b', 'x', '1'],
      ['a', 'x', '../../etc'],
      ['a', '', '1'],
    ] as const) {
      assert.throws(
        () => paths.extensionDir(publisher, type, version),
        /cannot be part of a folder name/,
      );
    }
  });
});

void describe('resolveAgentPaths', () => {
  void test('uses / without AZCMAGENT_ROOT', () => {
    assert.equal(resolveAgentPaths({}).root, '/');
    assert.equal(resolveAgentPaths({ AZCMAGENT_ROOT: '' }).root, '/');
  });

  void test('uses an existing absolute AZCMAGENT_ROOT', () => {
    const temp = makeTempRoot();
    try {
      assert.equal(
        resolveAgentPaths({ AZCMAGENT_ROOT: temp.root }).localConfig,
        temp.paths.localConfig,
      );
    } finally {
      temp.remove();
    }
  });

  void test('rejects a relative, missing or non-directory root', () => {
    const temp = makeTempRoot();
    try {
      const file = join(temp.root, 'file');
      writeFileSync(file, '');
      assert.throws(
        () => resolveAgentPaths({ AZCMAGENT_ROOT: 'relative/root' }),
        /must be an absolute path/,
      );
      assert.throws(
        () => resolveAgentPaths({ AZCMAGENT_ROOT: join(temp.root, 'missing') }),
        /is not an existing directory/,
      );
      assert.throws(
        () => resolveAgentPaths({ AZCMAGENT_ROOT: file }),
        /is not an existing directory/,
      );
    } finally {
      temp.remove();
    }
  });
});
