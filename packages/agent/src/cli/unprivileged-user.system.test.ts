// S5 with a real OS user: every changing command run as an unprivileged user is refused, exits
// non-zero and leaves the files unchanged (the change journal too, since nothing changed); the
// read-only commands work for that user, who cannot read the change journal.
// Creates the user (useradd) and deletes it afterwards, so it runs only as root, alone.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { readLocalChanges } from '../config/local-change-journal.js';
import { runAzcmagent } from '../test-support/azcmagent-process.js';
import { snapshotDataDir } from '../test-support/config-snapshot.js';
import { makeTempRoot } from '../test-support/temp-root.js';

const user = `tether-t${randomBytes(4).toString('hex')}`;
let uid = -1;
let gid = -1;
const temp = makeTempRoot();

const CHANGING_COMMANDS: readonly (readonly string[])[] = [
  ['config', 'set', 'extensions.allowlist', 'Microsoft.Azure.Extensions/CustomScript'],
  ['config', 'set', 'extensions.allowlist', 'Microsoft.Azure.Extensions/CustomScript', '--add'],
  [
    'config',
    'set',
    'extensions.allowlist',
    'Microsoft.Azure.Monitor/AzureMonitorLinuxAgent',
    '--remove',
  ],
  ['config', 'set', 'extensions.blocklist', 'Microsoft.Azure.Extensions/CustomScript', '-r'],
  ['config', 'set', 'extensions.enabled', 'true'],
  ['config', 'set', 'guestconfiguration.enabled', 'true'],
  ['config', 'set', 'config.mode', 'monitor'],
  ['config', 'set', 'proxy.url', 'http://attacker.example:8080'],
  ['config', 'clear', 'extensions.allowlist'],
  ['config', 'clear'],
];

void describe('an unprivileged OS user', () => {
  before(async () => {
    execFileSync('useradd', [
      '--system',
      '--no-create-home',
      '--user-group',
      '--shell',
      '/usr/sbin/nologin',
      user,
    ]);
    uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
    gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
    assert.ok(uid > 0 && gid > 0, 'the test user is not root');
    chmodSync(temp.root, 0o755); // mkdtemp makes it 0700; the layout below must be readable
    for (const args of [
      ['config', 'set', 'extensions.allowlist', 'Microsoft.Azure.Monitor/AzureMonitorLinuxAgent'],
      ['config', 'set', 'extensions.blocklist', 'Microsoft.Azure.Extensions/CustomScript'],
      ['config', 'set', 'guestconfiguration.enabled', 'false'],
      ['config', 'set', 'extensions.enabled', 'false'],
    ]) {
      const result = await runAzcmagent(temp.root, args);
      assert.equal(result.status, 0, result.stderr);
    }
  });

  after(() => {
    temp.remove();
    if (uid > 0) spawnSync('userdel', [user]);
    spawnSync('groupdel', [user]); // in case the distribution keeps the user's group
    assert.notEqual(spawnSync('id', [user]).status, 0, `test user ${user} was removed`);
  });

  for (const args of CHANGING_COMMANDS) {
    void test(`is refused: azcmagent ${args.join(' ')}`, async () => {
      const before = snapshotDataDir(temp.paths);
      const result = await runAzcmagent(temp.root, args, { uid, gid });
      assert.equal(result.status, 3, result.stderr);
      assert.match(
        result.stderr,
        /changes the agent's local security settings, which only root may do/,
      );
      assert.match(result.stderr, new RegExp(`runs as uid ${uid}\\)\\. Nothing was changed\\.`));
      assert.match(result.stderr, /Run it as root: sudo azcmagent config (set|clear)/);
      assert.equal(result.stdout, '');
      assert.deepEqual(snapshotDataDir(temp.paths), before);
    });
  }

  void test('cannot read the change journal, which root wrote before each change', () => {
    assert.equal(readLocalChanges(temp.paths.localChangeJournal).length, 4);
    const read = spawnSync(
      process.execPath,
      ['-e', `require('node:fs').readFileSync(${JSON.stringify(temp.paths.localChangeJournal)})`],
      { uid, gid, encoding: 'utf8' },
    );
    assert.notEqual(read.status, 0);
    assert.match(read.stderr, /EACCES/);
  });

  void test("cannot read the extensions and their handlers' output: azcmagent extension list", async () => {
    const result = await runAzcmagent(temp.root, ['extension', 'list'], { uid, gid });
    assert.equal(result.status, 3, result.stderr);
    assert.match(
      result.stderr,
      /only root may read .*Run it as root: sudo azcmagent extension list/,
    );
    assert.equal(result.stdout, '');
  });

  for (const args of [
    ['config', 'list'],
    ['config', 'list', '--json'],
    ['config', 'get', 'extensions.allowlist'],
    ['config', 'info', 'extensions.blocklist'],
    ['check'],
    ['version'],
  ]) {
    void test(`can run read-only: azcmagent ${args.join(' ')}`, async () => {
      const asRoot = await runAzcmagent(temp.root, args);
      const asUser = await runAzcmagent(temp.root, args, { uid, gid });
      assert.equal(asUser.status, 0, asUser.stderr);
      assert.equal(asUser.stdout, asRoot.stdout);
    });
  }
});
