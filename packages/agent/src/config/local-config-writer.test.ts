// The write path: atomic replacement with a backup, root-style permissions, nothing written
// on refusal, damaged files kept aside, and no lost update between concurrent writers.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { makeTempRoot, type TempRoot } from '../test-support/temp-root.js';
import { applySet } from './config-change.js';
import { loadLocalConfig, type LoadedConfig } from './local-config-file.js';
import { updateLocalConfig } from './local-config-writer.js';

const owner = { trustedOwnerUid: process.getuid?.() ?? 0 };
let temp: TempRoot;
beforeEach(() => {
  temp = makeTempRoot();
});
afterEach(() => temp.remove());

function setter(property: string, value: string, action: 'replace' | 'add' = 'replace') {
  return (loaded: LoadedConfig) => {
    if (loaded.state !== 'ok') throw new Error(`unexpected corrupt state: ${loaded.reason}`);
    return applySet(loaded.stored, property, value, action);
  };
}

void describe('updateLocalConfig', () => {
  void test('creates the folder and a 0644 file; keeps the previous version as .bak', async () => {
    await updateLocalConfig(temp.paths, setter('proxy.url', 'http://p:1'), owner);
    const first = readFileSync(temp.paths.localConfig, 'utf8');
    assert.equal(statSync(temp.paths.localConfig).mode & 0o777, 0o644);
    assert.equal(
      existsSync(temp.paths.localConfigBackup),
      false,
      'no backup of a file that did not exist',
    );

    await updateLocalConfig(temp.paths, setter('extensions.enabled', 'false'), owner);
    assert.equal(readFileSync(temp.paths.localConfigBackup, 'utf8'), first);
    assert.equal(statSync(temp.paths.localConfigBackup).mode & 0o777, 0o644);
    assert.deepEqual(JSON.parse(readFileSync(temp.paths.localConfig, 'utf8')), {
      'proxy.url': 'http://p:1',
      'extensions.enabled': false,
    });
  });

  void test('leaves no temporary or lock file behind', async () => {
    await updateLocalConfig(temp.paths, setter('proxy.url', 'http://p:1'), owner);
    await updateLocalConfig(temp.paths, setter('proxy.url', 'http://p:2'), owner);
    assert.deepEqual(readdirSync(temp.paths.dataDir).sort(), [
      'localconfig.json',
      'localconfig.json.bak',
    ]);
  });

  void test('a refused change writes nothing', async () => {
    await updateLocalConfig(temp.paths, setter('extensions.allowlist', 'A/B'), owner);
    const before = readFileSync(temp.paths.localConfig);
    await assert.rejects(
      updateLocalConfig(temp.paths, setter('extensions.allowlist', 'not-a-name'), owner),
      /Invalid extension name/,
    );
    assert.deepEqual(readFileSync(temp.paths.localConfig), before);
    assert.equal(existsSync(temp.paths.localConfigBackup), false);
  });

  void test('an unchanged result does not rewrite the file or the backup', async () => {
    await updateLocalConfig(temp.paths, setter('extensions.enabled', 'false'), owner);
    const inode = statSync(temp.paths.localConfig).ino;
    await updateLocalConfig(temp.paths, setter('extensions.enabled', 'FALSE'), owner);
    assert.equal(statSync(temp.paths.localConfig).ino, inode);
    assert.equal(existsSync(temp.paths.localConfigBackup), false);
  });

  void test('replacing a damaged file keeps it as .corrupt and leaves .bak alone', async () => {
    await updateLocalConfig(temp.paths, setter('proxy.url', 'http://p:1'), owner);
    await updateLocalConfig(temp.paths, setter('proxy.url', 'http://p:2'), owner);
    const backup = readFileSync(temp.paths.localConfigBackup, 'utf8');
    temp.writeConfig('{ damaged');
    await updateLocalConfig(temp.paths, () => ({ stored: {} }), owner);
    assert.equal(readFileSync(temp.paths.localConfigDamaged, 'utf8'), '{ damaged');
    assert.equal(readFileSync(temp.paths.localConfig, 'utf8'), '{}\n');
    assert.equal(readFileSync(temp.paths.localConfigBackup, 'utf8'), backup);
    assert.equal(loadLocalConfig(temp.paths, owner).state, 'ok');
  });

  void test('concurrent read-modify-write updates in one process all land', async () => {
    const names = Array.from({ length: 25 }, (_, i) => `Contoso/Ext${i}`);
    await Promise.all(
      names.map((name) =>
        updateLocalConfig(temp.paths, setter('extensions.allowlist', name, 'add'), owner),
      ),
    );
    const loaded = loadLocalConfig(temp.paths, owner);
    assert.equal(loaded.state, 'ok');
    if (loaded.state !== 'ok') return;
    const stored = loaded.settings['extensions.allowlist'].map((n) => `${n.publisher}/${n.type}`);
    assert.deepEqual([...stored].sort(), [...names].sort());
  });
});
