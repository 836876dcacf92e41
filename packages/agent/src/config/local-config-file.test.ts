// Reading localconfig.json: valid files load, and every kind of damage or tampering becomes a
// "corrupt" state with a reason instead of defaults.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { makeTempRoot, type TempRoot } from '../test-support/temp-root.js';
import { corruptConfigError, loadLocalConfig, serializeStoredConfig } from './local-config-file.js';
import { defaultConfig } from './property-table.js';

const owner = { trustedOwnerUid: process.getuid?.() ?? 0 };
let temp: TempRoot;
beforeEach(() => {
  temp = makeTempRoot();
});
afterEach(() => temp.remove());

void describe('loadLocalConfig', () => {
  void test('a missing file is a fresh install: the defaults of SPEC §4, and agent upgrades on', () => {
    const loaded = loadLocalConfig(temp.paths, owner);
    assert.equal(loaded.state, 'ok');
    if (loaded.state !== 'ok') return;
    assert.equal(loaded.bytes, null);
    assert.deepEqual(loaded.settings, {
      'incomingconnections.enabled': true,
      'incomingconnections.ports': [],
      'connection.type': 'default',
      'proxy.url': '',
      'proxy.bypass': [],
      'extensions.allowlist': [],
      'extensions.blocklist': [],
      'guestconfiguration.enabled': true,
      'extensions.enabled': true,
      'config.mode': 'full',
      'guestconfiguration.agent.cpulimit': 5,
      'extensions.agent.cpulimit': 5,
      'agentupgrade.enabled': true,
    });
  });

  void test('stored values override defaults and round-trip through serialization', () => {
    const text = `${JSON.stringify(
      {
        'incomingconnections.ports': [22],
        'extensions.allowlist': ['Microsoft.Azure.Monitor/AzureMonitorLinuxAgent'],
        'guestconfiguration.enabled': false,
        'config.mode': 'monitor',
      },
      null,
      2,
    )}\n`;
    temp.writeConfig(text);
    const loaded = loadLocalConfig(temp.paths, owner);
    assert.equal(loaded.state, 'ok');
    if (loaded.state !== 'ok') return;
    assert.equal(loaded.settings['guestconfiguration.enabled'], false);
    assert.equal(loaded.settings['extensions.enabled'], defaultConfig()['extensions.enabled']);
    assert.deepEqual(loaded.settings['incomingconnections.ports'], [22]);
    assert.equal(serializeStoredConfig(loaded.stored), text);
  });

  const damaged: [string, string, RegExp][] = [
    ['an empty file', '', /not valid JSON/],
    ['truncated JSON', '{"extensions.allowlist": ["A/B"', /not valid JSON/],
    ['a JSON array', '[]', /top level is not a JSON object/],
    ['an unknown key', '{"extensions.allowList2": []}', /unknown key "extensions\.allowList2"/],
    ['a key in other case', '{"Extensions.Allowlist": []}', /unknown key "Extensions\.Allowlist"/],
    [
      'a wrong type',
      '{"extensions.enabled": "false"}',
      /extensions\.enabled is invalid: extensions\.enabled must be a JSON boolean/,
    ],
    ['an invalid extension name', '{"extensions.allowlist": ["A/*"]}', /wildcards/],
    [
      'a port out of range',
      '{"incomingconnections.ports": [0]}',
      /incomingconnections\.ports is invalid/,
    ],
    ['a duplicate entry', '{"extensions.blocklist": ["A/B", "a/b"]}', /lists a\/b twice/],
    [
      'Allow/None beside other entries',
      '{"extensions.allowlist": ["Allow/None", "A/B"]}',
      /must be the only entry/,
    ],
    ['an unknown mode', '{"config.mode": "audit"}', /config\.mode is invalid/],
    ['a non-canonical value', '{"config.mode": "MONITOR"}', /not in canonical form/],
  ];
  for (const [label, text, reason] of damaged) {
    void test(`${label} is corrupt, with the reason`, () => {
      temp.writeConfig(text);
      const loaded = loadLocalConfig(temp.paths, owner);
      assert.equal(loaded.state, 'corrupt');
      if (loaded.state === 'corrupt') assert.match(loaded.reason, reason);
    });
  }

  void test('a file writable by others is not trusted', () => {
    temp.writeConfig('{}', 0o666);
    const loaded = loadLocalConfig(temp.paths, owner);
    assert.equal(loaded.state, 'corrupt');
    if (loaded.state === 'corrupt')
      assert.match(loaded.reason, /writable by users other than its owner \(mode 666\)/);
  });

  void test('a file owned by someone other than the trusted owner is not trusted', () => {
    temp.writeConfig('{}');
    const loaded = loadLocalConfig(temp.paths, { trustedOwnerUid: 4242 });
    assert.equal(loaded.state, 'corrupt');
    if (loaded.state === 'corrupt')
      assert.match(loaded.reason, /owned by uid \d+ instead of uid 4242/);
  });

  void test('a symbolic link is not followed', () => {
    mkdirSync(temp.paths.dataDir, { recursive: true });
    const elsewhere = join(temp.root, 'elsewhere.json');
    writeFileSync(elsewhere, '{}');
    symlinkSync(elsewhere, temp.paths.localConfig);
    const loaded = loadLocalConfig(temp.paths, owner);
    assert.equal(loaded.state, 'corrupt');
    if (loaded.state === 'corrupt') assert.match(loaded.reason, /symbolic link/);
  });

  void test('a data folder writable by others is not trusted, even without a file in it', () => {
    mkdirSync(temp.paths.dataDir, { recursive: true });
    chmodSync(temp.paths.dataDir, 0o777);
    const loaded = loadLocalConfig(temp.paths, owner);
    assert.equal(loaded.state, 'corrupt');
    if (loaded.state === 'corrupt') {
      assert.match(
        loaded.reason,
        /its folder .*var\/opt\/azcmagent is writable by users other than its owner \(mode 777\); fix it with 'sudo chown root:root/,
      );
    }
  });

  void test('a data folder owned by someone else is not trusted', () => {
    mkdirSync(temp.paths.dataDir, { recursive: true });
    const loaded = loadLocalConfig(temp.paths, { trustedOwnerUid: 4242 });
    assert.equal(loaded.state, 'corrupt');
    if (loaded.state === 'corrupt')
      assert.match(loaded.reason, /its folder .* is owned by uid \d+ instead of uid 4242/);
  });

  void test('a folder above the data folder that others can write is not trusted (they could swap it)', () => {
    mkdirSync(temp.paths.dataDir, { recursive: true });
    chmodSync(temp.paths.dataDir, 0o755);
    const above = join(temp.root, 'var/opt');
    chmodSync(above, 0o777);
    const loaded = loadLocalConfig(temp.paths, owner);
    assert.equal(loaded.state, 'corrupt');
    if (loaded.state === 'corrupt') {
      assert.match(
        loaded.reason,
        /var\/opt is writable by users other than its owner, so they can replace what it holds; only root may/,
      );
    }
    chmodSync(above, 0o755);
    assert.equal(loadLocalConfig(temp.paths, owner).state, 'ok');
  });

  void test('a directory in its place is corrupt', () => {
    mkdirSync(temp.paths.localConfig, { recursive: true });
    assert.equal(loadLocalConfig(temp.paths, owner).state, 'corrupt');
  });
});

void describe('corruptConfigError', () => {
  void test('names the file, the problem and both ways to repair it', () => {
    temp.writeConfig('{');
    const loaded = loadLocalConfig(temp.paths, owner);
    assert.equal(loaded.state, 'corrupt');
    if (loaded.state !== 'corrupt') return;
    const error = corruptConfigError(loaded);
    assert.equal(error.code, 'ERR_CONFIG_CORRUPT');
    assert.ok(error.message.includes(temp.paths.localConfig));
    assert.match(error.message, /not valid JSON/);
    assert.match(error.message, /refuses extension installs, updates and upgrades/);
    assert.ok(error.message.includes(`${temp.paths.localConfig}.bak`));
    assert.match(error.message, /sudo azcmagent config clear/);
  });
});
