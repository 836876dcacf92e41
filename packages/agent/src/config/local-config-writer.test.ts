// The write path: atomic replacement with a backup, root-style permissions, nothing written
// on refusal, damaged files kept aside, no lost update between concurrent writers, and every
// change recorded in the change journal first.
import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { makeTempRoot, type TempRoot } from '../test-support/temp-root.js';
import { applySet } from './config-change.js';
import { readLocalChangeJournal, readLocalChanges } from './local-change-journal.js';
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
      'localconfig-changes.jsonl',
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

void describe('updateLocalConfig records every change in the change journal', () => {
  const clock = { now: () => Date.parse('2026-12-02T10:00:00.000Z') };
  const actor = { uid: 1000, userName: 'alice', sudoUid: 1000 };
  const recorded = { ...owner, clock, actor };

  void test('who, when, which property, old and new value, numbered, before the change', async () => {
    await updateLocalConfig(temp.paths, setter('extensions.allowlist', 'A/B'), recorded);
    await updateLocalConfig(temp.paths, setter('extensions.allowlist', 'C/D', 'add'), recorded);
    assert.deepEqual(readLocalChanges(temp.paths.localChangeJournal), [
      {
        sequence: 1,
        time: '2026-12-02T10:00:00.000Z',
        uid: 1000,
        userName: 'alice',
        sudoUid: 1000,
        property: 'extensions.allowlist',
        oldValue: '[]',
        newValue: '[A/B]',
      },
      {
        sequence: 2,
        time: '2026-12-02T10:00:00.000Z',
        uid: 1000,
        userName: 'alice',
        sudoUid: 1000,
        property: 'extensions.allowlist',
        oldValue: '[A/B]',
        newValue: '[A/B, C/D]',
      },
    ]);
  });

  void test('without an actor given, the real uid of this process is recorded', async () => {
    await updateLocalConfig(temp.paths, setter('extensions.enabled', 'false'), owner);
    const [change] = readLocalChanges(temp.paths.localChangeJournal);
    assert.equal(change?.uid, process.getuid?.());
    assert.equal(change?.property, 'extensions.enabled');
    assert.deepEqual([change?.oldValue, change?.newValue], ['true', 'false']);
  });

  void test('a refused or unchanged write records nothing', async () => {
    await updateLocalConfig(temp.paths, setter('extensions.enabled', 'false'), recorded);
    await updateLocalConfig(temp.paths, setter('extensions.enabled', 'FALSE'), recorded);
    await assert.rejects(
      updateLocalConfig(temp.paths, setter('extensions.allowlist', 'not-a-name'), recorded),
    );
    assert.equal(readLocalChanges(temp.paths.localChangeJournal).length, 1);
  });

  void test('clearing every property records each one that changes', async () => {
    await updateLocalConfig(temp.paths, setter('extensions.enabled', 'false'), recorded);
    await updateLocalConfig(temp.paths, setter('proxy.url', 'http://p:1'), recorded);
    await updateLocalConfig(temp.paths, () => ({ stored: {} }), recorded);
    assert.deepEqual(
      readLocalChanges(temp.paths.localChangeJournal)
        .slice(2)
        .map((c) => [c.sequence, c.property, c.oldValue, c.newValue]),
      [
        [3, 'proxy.url', 'http://p:1', ''],
        [4, 'extensions.enabled', 'false', 'true'],
      ],
    );
  });

  void test('repairing a damaged file is recorded as a change of every property', async () => {
    temp.writeConfig('{ damaged');
    await updateLocalConfig(temp.paths, () => ({ stored: {} }), recorded);
    const [change] = readLocalChanges(temp.paths.localChangeJournal);
    assert.deepEqual(
      [change?.property, change?.oldValue, change?.newValue],
      ['*', '(damaged localconfig.json)', '(all defaults)'],
    );
  });

  void test('a change that cannot be recorded is not made', async () => {
    await updateLocalConfig(temp.paths, setter('extensions.allowlist', 'A/B'), recorded);
    const before = readFileSync(temp.paths.localConfig, 'utf8');
    chmodSync(temp.paths.localChangeJournal, 0o666);
    await assert.rejects(
      updateLocalConfig(temp.paths, setter('extensions.allowlist', 'C/D'), recorded),
      /Nothing was changed: the change journal .* cannot be used/,
    );
    assert.equal(readFileSync(temp.paths.localConfig, 'utf8'), before);
  });

  void test('compacts only what HIMDS reports the control plane has acknowledged', async () => {
    const journal = { compactAbove: 3, keepAcknowledged: 0 };
    for (const value of ['A/B', 'C/D', 'E/F']) {
      await updateLocalConfig(temp.paths, setter('extensions.allowlist', value), {
        ...recorded,
        journal,
      });
    }
    mkdirSync(temp.paths.himdsStatusDir, { recursive: true });
    const acknowledge = (localChangesJournal: string): void =>
      writeFileSync(
        temp.paths.serviceStatus('himds'),
        JSON.stringify({
          service: 'himds',
          status: 'running',
          localChangesAcknowledged: 2,
          localChangesJournal,
        }),
      );
    // Acknowledged in another journal (this one's predecessor): nothing of this one is.
    acknowledge('6f1d2c3b-0a9e-4d8c-b7a6-5e4f3d2c1b0a');
    await updateLocalConfig(temp.paths, setter('extensions.allowlist', 'G/H'), {
      ...recorded,
      journal,
    });
    assert.deepEqual(
      readLocalChanges(temp.paths.localChangeJournal).map((c) => c.sequence),
      [1, 2, 3, 4],
    );
    acknowledge(readLocalChangeJournal(temp.paths.localChangeJournal).journalId);
    await updateLocalConfig(temp.paths, setter('extensions.allowlist', 'I/J'), {
      ...recorded,
      journal,
    });
    assert.deepEqual(
      readLocalChanges(temp.paths.localChangeJournal).map((c) => c.sequence),
      [3, 4, 5],
    );
  });
});
