// Publisher/Type parsing: what real extension names look like and every way a name can be wrong.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ALLOW_NONE,
  extensionNamesEqual,
  formatExtensionName,
  isAllowNone,
  listIncludesExtension,
  parseExtensionList,
  parseExtensionName,
} from './extension-name.js';
import { isTetherError } from './tether-error.js';

void describe('parseExtensionName', () => {
  for (const text of [
    'Microsoft.Azure.Monitor/AzureMonitorLinuxAgent',
    'Qualys/WindowsAgent.AzureSecurityCenter',
    'Microsoft.Azure.ChangeTrackingAndInventory/ChangeTracking-Linux',
    'Publisher_1/Type_2',
  ]) {
    void test(`accepts ${text} and formats it back unchanged`, () => {
      assert.equal(formatExtensionName(parseExtensionName(text)), text);
    });
  }

  void test('ignores surrounding whitespace', () => {
    assert.deepEqual(parseExtensionName('  A.B/C  '), { publisher: 'A.B', type: 'C' });
  });

  const bad: [string, RegExp][] = [
    ['', /empty/],
    ['   ', /empty/],
    ['Microsoft.Azure.Extensions', /exactly one "\/" \(found 0\)/],
    ['A/B/C', /exactly one "\/" \(found 2\)/],
    ['/CustomScript', /publisher is empty/],
    ['Microsoft.Azure.Extensions/', /type is empty/],
    ['Microsoft Azure/CustomScript', /whitespace/],
    ['Microsoft.Azure.Extensions/*', /wildcards/],
    ['Microsoft.*/CustomScript', /wildcards/],
    ['Micro?oft/X', /wildcards/],
    ['Pub!/Type', /may only contain letters, digits/],
    ['.hidden/Type', /must start with a letter or digit/],
    ['Pub/..', /must start with a letter or digit/],
    [`${'a'.repeat(129)}/T`, /longer than 128/],
  ];
  for (const [text, message] of bad) {
    void test(`rejects ${JSON.stringify(text.slice(0, 40))} with a specific message`, () => {
      assert.throws(
        () => parseExtensionName(text),
        (error: unknown) =>
          isTetherError(error) &&
          error.code === 'ERR_INVALID_EXTENSION_NAME' &&
          message.test(error.message),
      );
    });
  }
});

void describe('parseExtensionList', () => {
  void test('parses a single entry and comma-separated entries', () => {
    assert.deepEqual(parseExtensionList('A/B').map(formatExtensionName), ['A/B']);
    assert.deepEqual(parseExtensionList('A/B,C.D/E , F/G').map(formatExtensionName), [
      'A/B',
      'C.D/E',
      'F/G',
    ]);
  });

  for (const text of ['A/B,,C/D', 'A/B,', ',A/B']) {
    void test(`rejects the empty entry in ${JSON.stringify(text)}`, () => {
      assert.throws(() => parseExtensionList(text), /is empty; separate entries/);
    });
  }

  void test('rejects the whole list when one entry is invalid', () => {
    assert.throws(() => parseExtensionList('A/B,Bad Name/X'), /"Bad Name\/X": it contains/);
  });
});

void describe('comparison', () => {
  void test('is case-insensitive and exact', () => {
    const amaLinux = parseExtensionName('Microsoft.Azure.Monitor/AzureMonitorLinuxAgent');
    assert.ok(
      extensionNamesEqual(
        amaLinux,
        parseExtensionName('microsoft.azure.monitor/azuremonitorlinuxagent'),
      ),
    );
    assert.ok(
      !extensionNamesEqual(amaLinux, parseExtensionName('Microsoft.Azure.Monitor/AzureMonitor')),
    );
    assert.ok(
      !extensionNamesEqual(amaLinux, parseExtensionName('Microsoft.Azure/AzureMonitorLinuxAgent')),
    );
    assert.ok(
      !listIncludesExtension([amaLinux], parseExtensionName('Microsoft.Azure.Monitor/Azure')),
    );
    assert.ok(
      listIncludesExtension(
        [amaLinux],
        parseExtensionName('MICROSOFT.AZURE.MONITOR/AzureMonitorLinuxAgent'),
      ),
    );
  });

  void test('recognises Allow/None in any case', () => {
    assert.ok(isAllowNone(parseExtensionName('allow/none')));
    assert.ok(isAllowNone(ALLOW_NONE));
    assert.ok(!isAllowNone(parseExtensionName('Allow/NoneOther')));
  });
});
