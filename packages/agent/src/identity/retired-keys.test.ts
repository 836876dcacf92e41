// Retired machine keys: kept private, the newest few only, found by id and nothing else.
import assert from 'node:assert/strict';
import { readdirSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeTempRoot } from '../test-support/temp-root.js';
import { generateMachineKey } from './machine-key.js';
import {
  findRetiredKey,
  removeRetiredKeys,
  retireMachineKey,
  RETIRED_KEYS_KEPT,
} from './retired-keys.js';

const owner = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };

void test('keeps the newest keys, 0600 in a 0700 folder, and finds each by its id', () => {
  const temp = makeTempRoot();
  try {
    const keys = Array.from({ length: RETIRED_KEYS_KEPT + 2 }, () => generateMachineKey());
    keys.forEach((key, i) => {
      retireMachineKey(temp.paths, key, owner);
      const file = join(temp.paths.retiredKeysDir, `${key.keyId}.key`);
      utimesSync(file, 1_000 + i, 1_000 + i); // retired one after another
    });
    const last = keys.at(-1);
    if (last !== undefined) retireMachineKey(temp.paths, last, owner); // prunes
    assert.equal(readdirSync(temp.paths.retiredKeysDir).length, RETIRED_KEYS_KEPT);
    assert.equal(statSync(temp.paths.retiredKeysDir).mode & 0o777, 0o700);
    for (const key of keys.slice(2)) {
      assert.equal(findRetiredKey(temp.paths, key.keyId)?.keyId, key.keyId);
      const mode = statSync(join(temp.paths.retiredKeysDir, `${key.keyId}.key`)).mode & 0o777;
      assert.equal(mode, 0o600);
    }
    assert.equal(findRetiredKey(temp.paths, keys[0]?.keyId ?? ''), undefined, 'the oldest went');
    assert.equal(findRetiredKey(temp.paths, '../../machine'), undefined);
    assert.equal(findRetiredKey(temp.paths, generateMachineKey().keyId), undefined);
    removeRetiredKeys(temp.paths);
    assert.equal(findRetiredKey(temp.paths, last?.keyId ?? ''), undefined);
  } finally {
    temp.remove();
  }
});
