// The trust store fails closed: only keys in root-owned, not group/other-writable folders and
// files count; private keys, RSA keys and links are never trusted.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, chownSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { publisherKeyId } from '@tether/protocol/extension-package';
import { makeTempRoot } from '../../test-support/temp-root.js';
import { parsePublisherKey } from './publisher-key.js';
import { addTrustedKey, readTrustedKeys } from './trusted-publishers.js';
import { publisherKeys } from './testing/test-fixtures.js';

const RUNNING_AS_ROOT = process.geteuid?.() === 0;

void describe('trusted publisher keys', () => {
  void test('addTrustedKey writes <key id>.pem 0644; readTrustedKeys returns Ed25519 and P-256 keys', () => {
    const temp = makeTempRoot();
    try {
      const ed = publisherKeys('ed25519');
      const ec = publisherKeys('p256');
      const file = addTrustedKey(temp.paths, 'Contoso', ed.publicKey);
      addTrustedKey(temp.paths, 'Contoso', ec.publicKey);
      addTrustedKey(temp.paths, 'Contoso', ed.publicKey); // idempotent
      assert.equal(
        file,
        join(temp.paths.trustedPublishersDir, 'Contoso', `${publisherKeyId(ed.publicKey)}.pem`),
      );
      assert.equal(statSync(file).mode & 0o777, 0o644);
      const logs: string[] = [];
      const keys = readTrustedKeys(temp.paths, 'Contoso', {
        ownerUid: process.geteuid?.() ?? 0,
        log: (l) => logs.push(l),
      });
      assert.deepEqual(
        keys.map((key) => publisherKeyId(key)).sort(),
        [publisherKeyId(ed.publicKey), publisherKeyId(ec.publicKey)].sort(),
      );
      assert.deepEqual(
        readTrustedKeys(temp.paths, 'Other', { ownerUid: 0, log: () => undefined }),
        [],
      );
      assert.deepEqual(logs, []);
    } finally {
      temp.remove();
    }
  });

  void test('unsafe files and folders, links, RSA keys and junk are ignored and logged', () => {
    const temp = makeTempRoot();
    try {
      const good = publisherKeys();
      addTrustedKey(temp.paths, 'Contoso', good.publicKey);
      const dir = join(temp.paths.trustedPublishersDir, 'Contoso');
      const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({
        format: 'pem',
        type: 'spki',
      });
      writeFileSync(join(dir, 'rsa.pem'), rsa, { mode: 0o644 });
      writeFileSync(join(dir, 'junk.pem'), 'hello', { mode: 0o644 });
      const writable = join(dir, 'writable.pem');
      writeFileSync(writable, publisherKeys().publicKey.export({ format: 'pem', type: 'spki' }));
      chmodSync(writable, 0o664);
      symlinkSync(writable, join(dir, 'link.pem'));
      const owner = process.geteuid?.() ?? 0;
      const logs: string[] = [];
      const keys = readTrustedKeys(temp.paths, 'Contoso', {
        ownerUid: owner,
        log: (l) => logs.push(l),
      });
      assert.deepEqual(
        keys.map((key) => publisherKeyId(key)),
        [publisherKeyId(good.publicKey)],
      );
      assert.equal(logs.length, 4, logs.join('\n'));
      assert.ok(logs.some((l) => /link\.pem is ignored: it is not a regular file/.test(l)));
      assert.ok(logs.some((l) => /rsa\.pem is ignored: .*Ed25519 or ECDSA P-256/.test(l)));
      assert.ok(
        logs.some((l) => /writable\.pem is ignored: it is writable by group or others/.test(l)),
      );

      chmodSync(dir, 0o777);
      const folderLogs: string[] = [];
      assert.deepEqual(
        readTrustedKeys(temp.paths, 'Contoso', { ownerUid: owner, log: (l) => folderLogs.push(l) }),
        [],
      );
      assert.match(folderLogs[0] ?? '', /Contoso are ignored: it is writable by group or others/);
    } finally {
      temp.remove();
    }
  });

  void test(
    'a key owned by someone other than root is ignored',
    { skip: RUNNING_AS_ROOT ? false : 'needs root to chown' },
    () => {
      const temp = makeTempRoot();
      try {
        const file = addTrustedKey(temp.paths, 'Contoso', publisherKeys().publicKey);
        chownSync(file, 65534, 65534);
        const logs: string[] = [];
        assert.deepEqual(
          readTrustedKeys(temp.paths, 'Contoso', { ownerUid: 0, log: (l) => logs.push(l) }),
          [],
        );
        assert.match(logs[0] ?? '', /is owned by uid 65534, not uid 0/);
      } finally {
        temp.remove();
      }
    },
  );

  void test('parsePublisherKey refuses private keys, RSA and several keys', () => {
    const { privateKey, publicKey } = publisherKeys();
    const pem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
    assert.equal(parsePublisherKey(pem, 'k.pem').asymmetricKeyType, 'ed25519');
    assert.throws(
      () =>
        parsePublisherKey(privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), 'k.pem'),
      /k\.pem holds a private key/,
    );
    assert.throws(() => parsePublisherKey(pem + pem, 'k.pem'), /is not one PEM public key/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .publicKey.export({ format: 'pem', type: 'spki' })
      .toString();
    assert.throws(() => parsePublisherKey(rsa, 'k.pem'), /is a rsa key/);
  });
});
