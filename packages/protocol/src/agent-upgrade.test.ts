// Debian's version order, checked against the cases dpkg's own documentation and tests use.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compareDebianVersions, isDebianVersion } from './agent-upgrade.js';

void describe('compareDebianVersions', () => {
  const older: [string, string][] = [
    ['0.1.0', '0.1.1'],
    ['0.1.0', '0.1.0+upgrade1'],
    ['1.9', '1.10'],
    ['1.0~rc1', '1.0'],
    ['1.0~~', '1.0~'],
    ['1.0', '1.0-1'],
    ['1.0-1', '1.0-2'],
    ['1.0-9', '1.0-10'],
    ['1.0a', '1.0+'],
    ['9.9', '1:0.1'],
    ['1.0', '1.0.0'],
  ];
  for (const [a, b] of older) {
    void test(`${a} is older than ${b}`, () => {
      assert.ok(compareDebianVersions(a, b) < 0);
      assert.ok(compareDebianVersions(b, a) > 0);
    });
  }
  for (const [a, b] of [
    ['1.0', '1.0'],
    ['0:1.0', '1.0'],
    ['1.01', '1.1'],
  ] as const) {
    void test(`${a} and ${b} are the same version`, () => {
      assert.equal(compareDebianVersions(a, b), 0);
    });
  }
});

void describe('isDebianVersion', () => {
  for (const good of ['0.1.0', '1:2.3-4', '0.1.0+upgrade1', '1.0~rc1', '2.0-1ubuntu1']) {
    void test(`accepts ${good}`, () => assert.ok(isDebianVersion(good)));
  }
  for (const bad of [
    '',
    'v1.0',
    '1.0 beta',
    '../1.0',
    '1.0/2',
    'a:1.0',
    '1.0-',
    `1${'.0'.repeat(80)}`,
  ]) {
    void test(`refuses ${JSON.stringify(bad)}`, () => assert.equal(isDebianVersion(bad), false));
  }
});
