// `azcmagent upgrade trust|untrust` through the real bundled CLI: root trusts a key for agent
// packages (root-owned, 0644), the change is journaled before it is made, a second trust changes
// nothing, and private keys, unknown key ids and non-root callers change nothing.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { publisherKeyId } from '@tether/protocol/extension-package';
import { readAgentPackageKeys } from '../agent-upgrade/trusted-agent-package-keys.js';
import { readLocalChanges } from '../config/local-change-journal.js';
import { ROOT_ONLY, runAzcmagent } from '../test-support/azcmagent-process.js';
import { makeTempRoot } from '../test-support/temp-root.js';

void describe('azcmagent upgrade trust', { skip: ROOT_ONLY }, () => {
  void test('trust, list and untrust a key; each change is journaled once', async () => {
    const temp = makeTempRoot();
    try {
      const pair = generateKeyPairSync('ed25519');
      const keyId = publisherKeyId(pair.publicKey);
      const keyFile = join(temp.root, 'publisher.pub.pem');
      writeFileSync(keyFile, pair.publicKey.export({ format: 'pem', type: 'spki' }));
      const run = (...args: string[]) => runAzcmagent(temp.root, ['upgrade', ...args]);

      const empty = await run('trust', '--list');
      assert.equal(empty.status, 0, empty.stderr);
      assert.match(empty.stdout, /No key is trusted for agent packages/);

      const trusted = await run('trust', '--key', keyFile);
      assert.equal(trusted.status, 0, trusted.stderr);
      assert.equal(trusted.stdout, `Key ${keyId} is trusted for agent packages.\n`);
      const stored = join(temp.paths.trustedAgentPackageKeysDir, `${keyId}.pem`);
      assert.equal(statSync(stored).mode & 0o777, 0o644);
      assert.equal(statSync(stored).uid, 0);
      const keys = readAgentPackageKeys(temp.paths, { ownerUid: 0, log: () => undefined });
      assert.deepEqual(
        keys.map((k) => publisherKeyId(k)),
        [keyId],
      );
      assert.match((await run('trust', '--key', keyFile)).stdout, /already was/);
      assert.equal((await run('trust', '--list')).stdout, `${keyId}\n`);

      const wrong = await run('untrust', '--key-id', 'no-such-key');
      assert.equal(wrong.status, 2);
      assert.match(wrong.stderr, /No key no-such-key is trusted .*Nothing was changed/);
      const untrusted = await run('untrust', '--key-id', keyId);
      assert.equal(untrusted.status, 0, untrusted.stderr);
      assert.match(untrusted.stdout, /none is trusted, so every agent upgrade is refused/);
      assert.equal(existsSync(stored), false);

      const changes = readLocalChanges(temp.paths.localChangeJournal).map((c) => [
        c.property,
        c.oldValue,
        c.newValue,
        c.uid,
      ]);
      assert.deepEqual(changes, [
        ['agentupgrade.trustedkeys', '', keyId, 0],
        ['agentupgrade.trustedkeys', keyId, '', 0],
      ]);
    } finally {
      temp.remove();
    }
  });

  void test('a private key, a missing --key and a non-root caller change nothing', async () => {
    const temp = makeTempRoot();
    try {
      const pair = generateKeyPairSync('ed25519');
      const privateFile = join(temp.root, 'publisher.key');
      writeFileSync(privateFile, pair.privateKey.export({ format: 'pem', type: 'pkcs8' }));
      const run = (args: string[], uid?: number) =>
        runAzcmagent(temp.root, ['upgrade', ...args], uid === undefined ? {} : { uid, gid: uid });
      const privateKey = await run(['trust', '--key', privateFile]);
      assert.notEqual(privateKey.status, 0);
      assert.match(privateKey.stderr, /holds a private key/);
      assert.match((await run(['trust'])).stderr, /Give --key <file>/);
      const notRoot = await run(['trust', '--key', privateFile], 65534);
      assert.notEqual(notRoot.status, 0);
      assert.match(notRoot.stderr, /Run it as root: sudo azcmagent upgrade trust --key/);
      assert.equal(existsSync(temp.paths.trustedAgentPackageKeysDir), false);
      assert.equal(existsSync(temp.paths.localChangeJournal), false, 'nothing journaled');
    } finally {
      temp.remove();
    }
  });

  void test('a trust folder another user can write is refused; nothing is journaled', async () => {
    const temp = makeTempRoot();
    try {
      const pair = generateKeyPairSync('ed25519');
      const keyFile = join(temp.root, 'publisher.pub.pem');
      writeFileSync(keyFile, pair.publicKey.export({ format: 'pem', type: 'spki' }));
      mkdirSync(temp.paths.trustedAgentPackageKeysDir, { recursive: true });
      chmodSync(temp.paths.dataDir, 0o755);
      chmodSync(temp.paths.trustedAgentPackageKeysDir, 0o777);
      const result = await runAzcmagent(temp.root, ['upgrade', 'trust', '--key', keyFile]);
      assert.notEqual(result.status, 0);
      assert.match(result.stderr, /not safe: .*writable by group or others.*Nothing was changed/);
      assert.deepEqual(readdirSync(temp.paths.trustedAgentPackageKeysDir), []);
      assert.equal(existsSync(temp.paths.localChangeJournal), false, 'nothing journaled');
    } finally {
      temp.remove();
    }
  });
});
