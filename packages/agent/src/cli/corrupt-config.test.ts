// A corrupt localconfig.json through the real CLI: every command reports it clearly and
// changes nothing, until `config clear` repairs it and keeps the damaged file aside.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { ROOT_ONLY, runAzcmagent } from '../test-support/azcmagent-process.js';
import { snapshotDataDir } from '../test-support/config-snapshot.js';
import { makeTempRoot, type TempRoot } from '../test-support/temp-root.js';

let temp: TempRoot;
beforeEach(() => {
  temp = makeTempRoot();
  temp.writeConfig(
    '{"extensions.allowlist": ["Microsoft.Azure.Monitor/AzureMonitorLinuxAgent"], "extensions.allowlist2": []}\n',
  );
});
afterEach(() => temp.remove());

void describe('corrupt localconfig.json', { skip: ROOT_ONLY }, () => {
  for (const args of [
    ['config', 'list'],
    ['config', 'get', 'extensions.allowlist'],
    ['config', 'set', 'extensions.allowlist', 'A/B'],
    ['config', 'set', 'proxy.url', 'http://p:1'],
    ['config', 'clear', 'proxy.url'],
  ]) {
    void test(`${args.join(' ')} reports the file, the problem and the repair, and changes nothing`, async () => {
      const before = snapshotDataDir(temp.paths);
      const result = await runAzcmagent(temp.root, args);
      assert.equal(result.status, 4, result.stderr);
      assert.ok(
        result.stderr.includes(
          `The local configuration file ${temp.paths.localConfig} cannot be used`,
        ),
      );
      assert.match(result.stderr, /unknown key "extensions\.allowlist2"/);
      assert.match(result.stderr, /refuses extension installs, updates and upgrades/);
      assert.match(result.stderr, /sudo azcmagent config clear/);
      assert.deepEqual(snapshotDataDir(temp.paths), before);
    });
  }

  void test('check fails with the reason', async () => {
    const result = await runAzcmagent(temp.root, ['check']);
    assert.equal(result.status, 1);
    assert.match(
      result.stdout,
      /FAIL {2}Local configuration file: .*unknown key "extensions\.allowlist2"/,
    );
  });

  void test('config info and version still work', async () => {
    assert.equal((await runAzcmagent(temp.root, ['config', 'info', 'config.mode'])).status, 0);
    assert.equal((await runAzcmagent(temp.root, ['version'])).status, 0);
  });

  void test('config clear repairs it and keeps the damaged bytes', async () => {
    const damaged = readFileSync(temp.paths.localConfig, 'utf8');
    const clear = await runAzcmagent(temp.root, ['config', 'clear']);
    assert.equal(clear.status, 0, clear.stderr);
    assert.ok(clear.stdout.includes(temp.paths.localConfigDamaged));
    assert.equal(readFileSync(temp.paths.localConfigDamaged, 'utf8'), damaged);
    const list = await runAzcmagent(temp.root, ['config', 'list']);
    assert.equal(list.status, 0, list.stderr);
  });

  void test('a world-writable file is refused as untrusted', async () => {
    temp.writeConfig('{}\n', 0o666);
    const result = await runAzcmagent(temp.root, ['config', 'list']);
    assert.equal(result.status, 4);
    assert.match(result.stderr, /writable by users other than its owner \(mode 666\)/);
  });
});
