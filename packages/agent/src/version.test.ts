// The version `azcmagent version` prints is the package's version: the source tree's, or the
// installed package's when the program runs from one.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AGENT_VERSION, installedPackage, PACKAGE_VERSION_FILE } from './version.js';

void test('AGENT_VERSION matches packages/agent/package.json', () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  assert.equal(AGENT_VERSION, pkg.version);
});

void test('a program started from the package reports the package version', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tether-version-'));
  try {
    mkdirSync(join(dir, 'bin'));
    const entry = join(dir, 'bin/azcmagent.cjs');
    assert.equal(installedPackage(entry), undefined, 'no version file: a checkout');
    writeFileSync(join(dir, PACKAGE_VERSION_FILE), '1.2.0+build7\n');
    assert.deepEqual(installedPackage(entry), { programDir: dir, version: '1.2.0+build7' });
    writeFileSync(join(dir, PACKAGE_VERSION_FILE), 'not a version');
    assert.equal(installedPackage(entry), undefined, 'a garbled file is not trusted');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
