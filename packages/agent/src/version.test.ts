// The version `azcmagent version` prints is the package's version.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { AGENT_VERSION } from './version.js';

void test('AGENT_VERSION matches packages/agent/package.json', () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  assert.equal(AGENT_VERSION, pkg.version);
});
