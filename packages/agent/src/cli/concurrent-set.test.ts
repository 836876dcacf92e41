// Many real `azcmagent config set --add` processes at once: the lock serializes them, no update
// is lost, and the change journal numbers every one of them once, in the order they landed.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, test } from 'node:test';
import { loadLocalConfig } from '../config/local-config-file.js';
import { readLocalChanges } from '../config/local-change-journal.js';
import { ROOT_ONLY, runAzcmagent } from '../test-support/azcmagent-process.js';
import { makeTempRoot } from '../test-support/temp-root.js';

void describe('concurrent config set', { skip: ROOT_ONLY }, () => {
  void test('16 concurrent --add runs on two lists all land', async () => {
    const temp = makeTempRoot();
    try {
      const allow = Array.from({ length: 10 }, (_, i) => `Contoso.Allowed/Ext${i}`);
      const block = Array.from({ length: 6 }, (_, i) => `Contoso.Blocked/Ext${i}`);
      const results = await Promise.all([
        ...allow.map((name) =>
          runAzcmagent(temp.root, ['config', 'set', 'extensions.allowlist', name, '--add']),
        ),
        ...block.map((name) =>
          runAzcmagent(temp.root, ['config', 'set', 'extensions.blocklist', name, '-a']),
        ),
      ]);
      for (const result of results) assert.equal(result.status, 0, result.stderr);
      const loaded = loadLocalConfig(temp.paths);
      assert.equal(loaded.state, 'ok');
      if (loaded.state !== 'ok') return;
      const names = (list: readonly { publisher: string; type: string }[]): string[] =>
        list.map((n) => `${n.publisher}/${n.type}`).sort();
      assert.deepEqual(names(loaded.settings['extensions.allowlist']), [...allow].sort());
      assert.deepEqual(names(loaded.settings['extensions.blocklist']), [...block].sort());
      assert.deepEqual(readdirSync(temp.paths.dataDir).sort(), [
        'localconfig-changes.jsonl',
        'localconfig.json',
        'localconfig.json.bak',
      ]);
      const changes = readLocalChanges(temp.paths.localChangeJournal);
      assert.deepEqual(
        changes.map((change) => change.sequence),
        Array.from({ length: 16 }, (_, i) => i + 1),
      );
      // Each run saw the list as the run before it left it.
      for (const property of ['extensions.allowlist', 'extensions.blocklist']) {
        const chain = changes.filter((change) => change.property === property);
        assert.equal(chain[0]?.oldValue, '[]');
        chain.slice(1).forEach((change, i) => assert.equal(change.oldValue, chain[i]?.newValue));
      }
    } finally {
      temp.remove();
    }
  });
});
