// The version `tether --version` prints is the package's version.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { TETHER_VERSION } from './version.js';

void test('TETHER_VERSION matches packages/control-plane/package.json', () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  assert.equal(TETHER_VERSION, pkg.version);
});
