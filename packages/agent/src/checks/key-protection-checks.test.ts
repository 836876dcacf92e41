// The key-file check: skipped before connect, passes for a 0600 key of the expected owner and
// fails, saying how to fix it, for a key others can read.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { loadedFromJson } from '../test-support/loaded-config.js';
import { makeTempRoot } from '../test-support/temp-root.js';
import { keyProtectionChecks } from './key-protection-checks.js';

const temp = makeTempRoot();
after(() => temp.remove());

async function keyCheck(): Promise<{ status: string; detail: string }> {
  const results = await keyProtectionChecks.run({
    paths: temp.paths,
    loaded: loadedFromJson({}),
    clock: { now: () => 0 },
  });
  const found = results.find((r) => r.id === 'key-file');
  assert.ok(found !== undefined);
  return found;
}

void describe('key protection checks', () => {
  void test('skip before connect; disk encryption is unknown under a test root', async () => {
    assert.equal((await keyCheck()).status, 'skip');
    const results = await keyProtectionChecks.run({
      paths: temp.paths,
      loaded: loadedFromJson({}),
      clock: { now: () => 0 },
    });
    assert.equal(results.find((r) => r.id === 'disk-encryption')?.status, 'unknown');
  });

  void test('pass for mode 0600, fail naming the fix for 0644', async () => {
    mkdirSync(temp.paths.certsDir, { recursive: true });
    writeFileSync(temp.paths.machineKey, 'key', { mode: 0o600 });
    chmodSync(temp.paths.machineKey, 0o600);
    assert.equal((await keyCheck()).status, 'pass');
    chmodSync(temp.paths.machineKey, 0o644);
    const loose = await keyCheck();
    assert.equal(loose.status, 'fail');
    assert.match(loose.detail, /mode 0644, not 0600; fix it with 'sudo chmod 600 /);
  });
});
