// The rules of `config set` and `config clear`: every property's validation, list edits, Allow/None,
// monitor mode locking, and a specific error for each kind of bad input.
import { isTetherError } from '@tether/protocol';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyClear, applySet } from './config-change.js';
import type { StoredConfig } from './local-config.js';
import { serializeStoredConfig } from './local-config-file.js';

function set(
  stored: StoredConfig,
  property: string,
  value: string,
  action: 'replace' | 'add' | 'remove' = 'replace',
): StoredConfig {
  return applySet(stored, property, value, action).stored;
}

function json(stored: StoredConfig): unknown {
  return JSON.parse(serializeStoredConfig(stored));
}

function assertRejected(run: () => unknown, code: string, message: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(isTetherError(error), String(error));
    assert.equal(error.code, code);
    assert.match(error.message, message);
    return true;
  });
}

void describe('config set: accepted values', () => {
  const cases: [string, string, unknown][] = [
    ['incomingconnections.enabled', 'FALSE', false],
    ['incomingconnections.ports', '22,6516', [22, 6516]],
    ['incomingconnections.ports', '22, 22 ,443', [22, 443]],
    ['connection.type', 'Direct', 'direct'],
    ['proxy.url', 'http://proxy.contoso.corp:8080', 'http://proxy.contoso.corp:8080'],
    ['proxy.url', 'https://10.0.0.5/', 'https://10.0.0.5/'],
    ['proxy.bypass', 'arm,Arc', ['ARM', 'Arc']],
    ['proxy.bypass', 'AAD,ArcData,AMA', ['AAD', 'ArcData', 'AMA']],
    [
      'extensions.allowlist',
      'Microsoft.Azure.Monitor/AzureMonitorLinuxAgent',
      ['Microsoft.Azure.Monitor/AzureMonitorLinuxAgent'],
    ],
    ['extensions.allowlist', 'A/B, a/b ,C/D', ['A/B', 'C/D']],
    ['extensions.allowlist', 'allow/none', ['allow/none']],
    [
      'extensions.blocklist',
      'Microsoft.Azure.Extensions/CustomScript',
      ['Microsoft.Azure.Extensions/CustomScript'],
    ],
    ['guestconfiguration.enabled', 'True', true],
    ['extensions.enabled', 'false', false],
    ['config.mode', 'MONITOR', 'monitor'],
    ['guestconfiguration.agent.cpulimit', '100', 100],
    ['extensions.agent.cpulimit', '1', 1],
    ['Extensions.AllowList', 'A/B', ['A/B']],
  ];
  for (const [property, value, expected] of cases) {
    void test(`${property} ${value}`, () => {
      const stored = json(set({}, property, value)) as Record<string, unknown>;
      assert.deepEqual(Object.values(stored), [expected]);
    });
  }

  void test('prints "Config property <name> set to value <value>"', () => {
    assert.equal(
      applySet({}, 'extensions.allowlist', 'A/B,C/D', 'replace').message,
      'Config property extensions.allowlist set to value [A/B, C/D]',
    );
    assert.equal(
      applySet({}, 'guestconfiguration.enabled', 'false', 'replace').message,
      'Config property guestconfiguration.enabled set to value false',
    );
  });
});

void describe('config set: bad input gets a specific error', () => {
  const cases: [string, string, string, RegExp][] = [
    [
      'no.such.property',
      'true',
      'ERR_UNKNOWN_PROPERTY',
      /Unknown configuration property "no\.such\.property"\. Known properties: incomingconnections\.enabled/,
    ],
    [
      'extensions.allowlist',
      'Microsoft.Azure.Extensions',
      'ERR_INVALID_EXTENSION_NAME',
      /extensions\.allowlist: Invalid extension name "Microsoft\.Azure\.Extensions": expected Publisher\/Type/,
    ],
    [
      'extensions.blocklist',
      'Microsoft.Azure.Extensions/*',
      'ERR_INVALID_EXTENSION_NAME',
      /wildcards are not supported/,
    ],
    ['extensions.allowlist', 'A/B,,C/D', 'ERR_INVALID_VALUE', /empty entry/],
    ['extensions.allowlist', 'A/B,', 'ERR_INVALID_VALUE', /empty entry/],
    [
      'extensions.allowlist',
      'Allow/None,A/B',
      'ERR_INVALID_VALUE',
      /Allow\/None allows no extensions, so it must be the only entry/,
    ],
    [
      'extensions.blocklist',
      'Allow/None',
      'ERR_INVALID_VALUE',
      /only meaningful in extensions\.allowlist/,
    ],
    [
      'extensions.allowlist',
      '',
      'ERR_INVALID_VALUE',
      /No value given for extensions\.allowlist.*config clear extensions\.allowlist/,
    ],
    [
      'incomingconnections.ports',
      '0',
      'ERR_INVALID_VALUE',
      /Invalid value "0" for incomingconnections\.ports: expected a port number, a whole number from 1 to 65535/,
    ],
    ['incomingconnections.ports', '65536', 'ERR_INVALID_VALUE', /"65536"/],
    ['incomingconnections.ports', '22,abc', 'ERR_INVALID_VALUE', /"abc"/],
    ['incomingconnections.ports', '-1', 'ERR_INVALID_VALUE', /"-1"/],
    ['incomingconnections.ports', '8.5', 'ERR_INVALID_VALUE', /"8\.5"/],
    ['guestconfiguration.enabled', 'yes', 'ERR_INVALID_VALUE', /expected true or false/],
    ['extensions.enabled', '1', 'ERR_INVALID_VALUE', /expected true or false/],
    ['config.mode', 'audit', 'ERR_INVALID_VALUE', /expected one of full, monitor/],
    ['connection.type', 'gateway', 'ERR_INVALID_VALUE', /Tether has no Arc gateway/],
    ['connection.type', 'private', 'ERR_INVALID_VALUE', /expected one of default, direct/],
    ['proxy.url', 'proxy.contoso.corp:8080', 'ERR_INVALID_VALUE', /scheme must be http or https/],
    ['proxy.url', 'ftp://proxy', 'ERR_INVALID_VALUE', /scheme must be http or https, not ftp/],
    [
      'proxy.url',
      'http://user:secret@proxy:8080',
      'ERR_INVALID_VALUE',
      /credentials in the proxy URL are not supported/,
    ],
    ['proxy.url', 'http://proxy:8080/path', 'ERR_INVALID_VALUE', /no path, query or fragment/],
    ['proxy.url', 'not a url', 'ERR_INVALID_VALUE', /expected a URL/],
    [
      'proxy.bypass',
      'Arc,Storage',
      'ERR_INVALID_VALUE',
      /"Storage" for proxy\.bypass: expected one of AAD, ARM, AMA, Arc, ArcData/,
    ],
    [
      'guestconfiguration.agent.cpulimit',
      '0',
      'ERR_INVALID_VALUE',
      /a percentage, a whole number from 1 to 100/,
    ],
    ['extensions.agent.cpulimit', '101', 'ERR_INVALID_VALUE', /from 1 to 100/],
  ];
  for (const [property, value, code, message] of cases) {
    void test(`${property} ${JSON.stringify(value)} → ${code}`, () => {
      assertRejected(() => applySet({}, property, value, 'replace'), code, message);
    });
  }

  for (const action of ['add', 'remove'] as const) {
    void test(`--${action} on a scalar property`, () => {
      assertRejected(
        () => applySet({}, 'config.mode', 'full', action),
        'ERR_LIST_FLAG_ON_SCALAR',
        new RegExp(
          `--${action} only works with list properties, and config\\.mode holds a single value`,
        ),
      );
    });
  }
});

void describe('config set: list edits', () => {
  const base = set({}, 'extensions.allowlist', 'A/B,C/D');

  void test('without --add or --remove the list is replaced', () => {
    assert.deepEqual(json(set(base, 'extensions.allowlist', 'E/F')), {
      'extensions.allowlist': ['E/F'],
    });
  });
  void test('--add appends new entries and skips ones already present in any case', () => {
    assert.deepEqual(json(set(base, 'extensions.allowlist', 'c/d,E/F', 'add')), {
      'extensions.allowlist': ['A/B', 'C/D', 'E/F'],
    });
  });
  void test('--add to an unset list starts from the default', () => {
    assert.deepEqual(json(set({}, 'incomingconnections.ports', '22', 'add')), {
      'incomingconnections.ports': [22],
    });
  });
  void test('--remove removes entries matched case-insensitively', () => {
    assert.deepEqual(json(set(base, 'extensions.allowlist', 'a/b', 'remove')), {
      'extensions.allowlist': ['C/D'],
    });
  });
  void test('--remove of an entry that is not there is an error', () => {
    assertRejected(
      () => applySet(base, 'extensions.allowlist', 'X/Y', 'remove'),
      'ERR_VALUE_NOT_IN_LIST',
      /Cannot remove X\/Y from extensions\.allowlist: not in the list \[A\/B, C\/D\]/,
    );
  });
  void test('--add next to Allow/None is refused', () => {
    const none = set({}, 'extensions.allowlist', 'Allow/None');
    assertRejected(
      () => applySet(none, 'extensions.allowlist', 'A/B', 'add'),
      'ERR_INVALID_VALUE',
      /must be the only entry/,
    );
  });
  void test('removing the last allowlist entry warns that every extension is now allowed', () => {
    const one = set({}, 'extensions.allowlist', 'A/B');
    const change = applySet(one, 'extensions.allowlist', 'A/B', 'remove');
    assert.deepEqual(json(change.stored), { 'extensions.allowlist': [] });
    assert.match(change.warnings.join(), /extensions\.allowlist is now empty/);
  });
});

void describe('monitor mode', () => {
  const user = set(set({}, 'extensions.allowlist', 'A/B'), 'extensions.blocklist', 'C/D');
  const monitor = set(user, 'config.mode', 'monitor');

  const governed: [string, string, boolean][] = [
    ['extensions.allowlist', 'E/F', true],
    ['extensions.blocklist', 'E/F', true],
    ['incomingconnections.ports', '22', true],
    ['guestconfiguration.enabled', 'true', false],
    ['incomingconnections.enabled', 'true', false],
  ];
  for (const [property, value, isList] of governed) {
    void test(`${property} cannot be set or cleared; the error says to switch to full first`, () => {
      const attempts = [
        () => applySet(monitor, property, value, 'replace'),
        () => applyClear(monitor, property),
        ...(isList ? [() => applySet(monitor, property, value, 'add')] : []),
      ];
      for (const attempt of attempts) {
        assertRejected(
          attempt,
          'ERR_MONITOR_MODE_LOCKED',
          /monitor mode.*'azcmagent config set config\.mode full'/,
        );
      }
    });
  }
  void test('clearing every property is refused too', () => {
    assertRejected(
      () => applyClear(monitor, undefined),
      'ERR_MONITOR_MODE_LOCKED',
      /switch to full mode first/i,
    );
  });
  void test('other properties can still change', () => {
    assert.equal(set(monitor, 'extensions.enabled', 'false')['extensions.enabled'], false);
    assert.equal(set(monitor, 'proxy.url', 'http://p:3128')['proxy.url'], 'http://p:3128');
  });
  void test("switching back to full brings the user's lists back unchanged", () => {
    assert.deepEqual(json(set(monitor, 'config.mode', 'full')), {
      ...(json(user) as object),
      'config.mode': 'full',
    });
    assert.deepEqual(json(applyClear(monitor, 'config.mode').stored), json(user));
  });
});

void describe('config clear', () => {
  void test('one property returns to its default; the rest stay', () => {
    const stored = set(set({}, 'proxy.url', 'http://p:1'), 'extensions.enabled', 'false');
    const change = applyClear(stored, 'proxy.url');
    assert.deepEqual(json(change.stored), { 'extensions.enabled': false });
    assert.equal(change.message, 'Config property proxy.url cleared to its default value (none)');
  });
  void test('without a property everything returns to defaults', () => {
    assert.deepEqual(applyClear(set({}, 'proxy.url', 'http://p:1'), undefined).stored, {});
  });
  void test('an unknown property is an error', () => {
    assertRejected(
      () => applyClear({}, 'proxy'),
      'ERR_UNKNOWN_PROPERTY',
      /Unknown configuration property "proxy"/,
    );
  });
});
