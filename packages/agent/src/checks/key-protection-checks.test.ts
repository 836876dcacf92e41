// The key-file check: skipped before connect, passes for a 0600 key of the expected owner and
// fails, saying how to fix it, for a key others can read.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadedFromJson } from '../test-support/loaded-config.js';
import { makeTempRoot } from '../test-support/temp-root.js';
import { keyProtectionChecks } from './key-protection-checks.js';

const temp = makeTempRoot();
after(() => temp.remove());

async function keyCheck(): Promise<{ status: string; detail: string }> {
  const results = await keyProtectionChecks.run({
    paths: temp.paths,
    systemRoot: temp.root,
    loaded: loadedFromJson({}),
    clock: { now: () => 0 },
  });
  const found = results.find((r) => r.id === 'key-file');
  assert.ok(found !== undefined);
  return found;
}

void describe('key protection checks', () => {
  void test('skip before connect; disk encryption is unknown without a readable /proc', async () => {
    assert.equal((await keyCheck()).status, 'skip');
    const results = await keyProtectionChecks.run({
      paths: temp.paths,
      systemRoot: temp.root,
      loaded: loadedFromJson({}),
      clock: { now: () => 0 },
    });
    const disk = results.find((r) => r.id === 'disk-encryption');
    assert.equal(disk?.status, 'unknown');
    assert.match(disk.detail, /proc\/mounts cannot be read/);
  });

  void test('disk encryption is read from the system root, not from the agent layout', async () => {
    const system = makeTempRoot();
    try {
      mkdirSync(join(system.root, 'proc'), { recursive: true });
      writeFileSync(join(system.root, 'proc/mounts'), '/dev/sda1 / ext4 rw 0 0\n');
      const results = await keyProtectionChecks.run({
        paths: temp.paths,
        systemRoot: system.root,
        loaded: loadedFromJson({}),
        clock: { now: () => 0 },
      });
      const disk = results.find((r) => r.id === 'disk-encryption');
      assert.equal(disk?.status, 'warn');
      assert.match(disk.detail, /^\/ is on \/dev\/sda1, which is not on dm-crypt/);
    } finally {
      system.remove();
    }
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
