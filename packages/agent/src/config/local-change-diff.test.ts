// What the journal records of a write: each property whose value in force changes, shown as
// config get shows it; nothing for a write that changes no value; never a proxy credential.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { corruptLoaded, loadedFromJson } from '../test-support/loaded-config.js';
import type { StoredConfig } from './local-config.js';
import type { LoadedConfig } from './local-config-file.js';
import { DAMAGED_FILE_CHANGE, propertyChanges } from './local-change-diff.js';

const name = (text: string) => {
  const [publisher = '', type = ''] = text.split('/');
  return { publisher, type };
};

const cases: [string, LoadedConfig, StoredConfig, [string, string, string][]][] = [
  [
    'an allowlist set on a fresh install',
    loadedFromJson({}),
    { 'extensions.allowlist': [name('A/B'), name('C/D')] },
    [['extensions.allowlist', '[]', '[A/B, C/D]']],
  ],
  ['a property set to its default', loadedFromJson({}), { 'extensions.enabled': true }, []],
  [
    'one write changing two properties, in table order',
    loadedFromJson({ 'guestconfiguration.enabled': false }),
    { 'config.mode': 'monitor' },
    [
      ['guestconfiguration.enabled', 'false', 'true'],
      ['config.mode', 'full', 'monitor'],
    ],
  ],
  [
    'a damaged file replaced by defaults',
    corruptLoaded(),
    {},
    [[DAMAGED_FILE_CHANGE.property, DAMAGED_FILE_CHANGE.oldValue, DAMAGED_FILE_CHANGE.newValue]],
  ],
  [
    'a proxy URL with credentials (which config set refuses) is masked',
    {
      ...(loadedFromJson({}) as Extract<LoadedConfig, { state: 'ok' }>),
      stored: { 'proxy.url': 'http://user:secret@proxy.example:3128' },
    },
    {},
    [['proxy.url', 'http://***@proxy.example:3128', '']],
  ],
];

void describe('propertyChanges', () => {
  for (const [title, loaded, next, expected] of cases) {
    void test(title, () => {
      assert.deepEqual(
        propertyChanges(loaded, next).map((c) => [c.property, c.oldValue, c.newValue]),
        expected,
      );
    });
  }
});
