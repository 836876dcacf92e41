// `azcmagent extension trust|untrust` through the real bundled CLI: a trusted key makes that
// publisher's packages install; each trust and untrust is journaled before it is made, as
// `azcmagent upgrade trust` is; private keys, RSA keys, missing files, unknown key ids, unsafe
// folders and bad names change nothing.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { publisherKeyId } from '@tether/protocol/extension-package';
import { readLocalChanges } from '../config/local-change-journal.js';
import { harness, PUBLISHER, TYPE } from '../extensions/host/testing/host-test-harness.js';
import {
  buildZip,
  handlerEntries,
  publisherKeys,
  signedPackage,
} from '../extensions/host/testing/test-fixtures.js';
import { ROOT_ONLY, runAzcmagent } from '../test-support/azcmagent-process.js';
import { makeTempRoot } from '../test-support/temp-root.js';

void describe('azcmagent extension trust', { skip: ROOT_ONLY }, () => {
  void test("a trusted key lets the publisher's packages install", async () => {
    const h = harness();
    try {
      const newKeys = publisherKeys('p256');
      const identity = { publisher: PUBLISHER, type: TYPE, version: '1.0.0' };
      const zip = await buildZip(handlerEntries({ callLog: h.callLog, version: '1.0.0' }));
      h.packages.set(
        `${PUBLISHER}/${TYPE}/1.0.0`,
        await signedPackage(identity, zip, newKeys.privateKey),
      );
      const before = await h.host.apply(h.desired('1.0.0', 1), h.fetch);
      assert.equal(before.error?.code, 'ERR_PACKAGE_SIGNATURE');

      const keyFile = join(h.temp.root, 'publisher.pub.pem');
      writeFileSync(keyFile, newKeys.publicKey.export({ format: 'pem', type: 'spki' }));
      const result = await runAzcmagent(h.temp.root, [
        'extension',
        'trust',
        '--publisher',
        PUBLISHER,
        '--key',
        keyFile,
      ]);
      assert.equal(result.status, 0, result.stderr);
      const keyId = publisherKeyId(newKeys.publicKey);
      const stored = join(h.temp.paths.trustedPublishersDir, PUBLISHER, `${keyId}.pem`);
      assert.equal(result.stdout, `Publisher ${PUBLISHER} key ${keyId} is trusted (${stored}).\n`);
      assert.equal(statSync(stored).mode & 0o777, 0o644);
      assert.equal(statSync(stored).uid, 0);

      const after = await h.host.apply(h.desired('1.0.0', 1), h.fetch);
      assert.equal(after.result, 'Succeeded', JSON.stringify(after));
    } finally {
      await h.remove();
    }
  });

  void test('trust and untrust a key; each change is journaled once, before it is made', async () => {
    const temp = makeTempRoot();
    try {
      const pair = generateKeyPairSync('ed25519');
      const keyId = publisherKeyId(pair.publicKey);
      const keyFile = join(temp.root, 'publisher.pub.pem');
      writeFileSync(keyFile, pair.publicKey.export({ format: 'pem', type: 'spki' }));
      const run = (...args: string[]) => runAzcmagent(temp.root, ['extension', ...args]);
      const stored = join(temp.paths.trustedPublishersDir, 'Contoso.Tools', `${keyId}.pem`);

      const trusted = await run('trust', '--publisher', 'Contoso.Tools', '--key', keyFile);
      assert.equal(trusted.status, 0, trusted.stderr);
      assert.equal(
        trusted.stdout,
        `Publisher Contoso.Tools key ${keyId} is trusted (${stored}).\n`,
      );
      const again = await run('trust', '--publisher', 'Contoso.Tools', '--key', keyFile);
      assert.equal(again.status, 0, again.stderr);
      assert.match(again.stdout, /; it already was\)/);
      const other = await run('trust', '--publisher', 'Fabrikam', '--key', keyFile);
      assert.equal(other.status, 0, other.stderr);

      const wrong = await run('untrust', '--publisher', 'Contoso.Tools', '--key-id', 'no-such-key');
      assert.equal(wrong.status, 2);
      assert.match(
        wrong.stderr,
        /No key no-such-key of publisher Contoso\.Tools is trusted .*Nothing was changed/,
      );
      const missing = await run('untrust', '--publisher', 'Contoso.Tools');
      assert.equal(missing.status, 2);
      assert.match(missing.stderr, /Give both --publisher <publisher> and --key-id <id>/);
      const untrusted = await run('untrust', '--publisher', 'Contoso.Tools', '--key-id', keyId);
      assert.equal(untrusted.status, 0, untrusted.stderr);
      assert.match(
        untrusted.stdout,
        /no key of Contoso\.Tools is trusted, so its packages are refused/,
      );
      assert.equal(existsSync(stored), false);
      assert.equal(
        existsSync(join(temp.paths.trustedPublishersDir, 'Fabrikam', `${keyId}.pem`)),
        true,
        "another publisher's trust of the same key stays",
      );

      const changes = readLocalChanges(temp.paths.localChangeJournal).map((c) => [
        c.property,
        c.oldValue,
        c.newValue,
        c.uid,
      ]);
      assert.deepEqual(changes, [
        ['extensions.trustedkeys', '', `Contoso.Tools/${keyId}`, 0],
        ['extensions.trustedkeys', '', `Fabrikam/${keyId}`, 0],
        ['extensions.trustedkeys', `Contoso.Tools/${keyId}`, '', 0],
      ]);
    } finally {
      temp.remove();
    }
  });

  void test('untrust removes every copy of the key, whatever its file is named', async () => {
    const temp = makeTempRoot();
    try {
      const pair = generateKeyPairSync('ed25519');
      const keyId = publisherKeyId(pair.publicKey);
      const pem = pair.publicKey.export({ format: 'pem', type: 'spki' });
      const keyFile = join(temp.root, 'publisher.pub.pem');
      writeFileSync(keyFile, pem);
      const run = (...args: string[]) => runAzcmagent(temp.root, ['extension', ...args]);
      const trusted = await run('trust', '--publisher', 'Contoso.Tools', '--key', keyFile);
      assert.equal(trusted.status, 0, trusted.stderr);
      // Root also copied the same key in by hand, under a name of its own; another key stays.
      const folder = join(temp.paths.trustedPublishersDir, 'Contoso.Tools');
      writeFileSync(join(folder, 'contoso-release.pem'), pem, { mode: 0o644 });
      const other = generateKeyPairSync('ed25519').publicKey;
      const otherFile = join(folder, 'contoso-other.pem');
      writeFileSync(otherFile, other.export({ format: 'pem', type: 'spki' }), { mode: 0o644 });

      const untrusted = await run('untrust', '--publisher', 'Contoso.Tools', '--key-id', keyId);
      assert.equal(untrusted.status, 0, untrusted.stderr);
      assert.deepEqual(readdirSync(folder), ['contoso-other.pem']);
      const again = await run('untrust', '--publisher', 'Contoso.Tools', '--key-id', keyId);
      assert.equal(again.status, 2);
      assert.match(
        again.stderr,
        new RegExp(`trusted: ${publisherKeyId(other)}\\)\\. Nothing was changed`),
      );
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
      const folder = join(temp.paths.trustedPublishersDir, 'Contoso.Tools');
      mkdirSync(folder, { recursive: true });
      chmodSync(temp.paths.dataDir, 0o755);
      chmodSync(temp.paths.trustedPublishersDir, 0o755);
      chmodSync(folder, 0o777);
      const result = await runAzcmagent(temp.root, [
        'extension',
        'trust',
        '--publisher',
        'Contoso.Tools',
        '--key',
        keyFile,
      ]);
      assert.notEqual(result.status, 0);
      assert.match(result.stderr, /not safe: .*writable by group or others.*Nothing was changed/);
      assert.deepEqual(readdirSync(folder), []);
      assert.equal(existsSync(temp.paths.localChangeJournal), false, 'nothing journaled');
    } finally {
      temp.remove();
    }
  });

  void test('bad key files and names are refused with a specific error; nothing is written', async () => {
    const h = harness();
    try {
      const dir = join(h.temp.paths.trustedPublishersDir, PUBLISHER);
      const trustedBefore = readdirSync(dir);
      const privateFile = join(h.temp.root, 'publisher.key');
      writeFileSync(
        privateFile,
        publisherKeys().privateKey.export({ format: 'pem', type: 'pkcs8' }),
      );
      const rsaFile = join(h.temp.root, 'rsa.pem');
      writeFileSync(
        rsaFile,
        generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({
          format: 'pem',
          type: 'spki',
        }),
      );
      const cases: [string[], number, RegExp][] = [
        [['--publisher', PUBLISHER, '--key', privateFile], 2, /holds a private key/],
        [
          ['--publisher', PUBLISHER, '--key', rsaFile],
          2,
          /is a rsa key; publisher keys must be Ed25519 or ECDSA P-256/,
        ],
        [
          ['--publisher', PUBLISHER, '--key', join(h.temp.root, 'missing.pem')],
          2,
          /Cannot read the key file .*missing\.pem \(ENOENT\)/,
        ],
        [['--publisher', PUBLISHER, '--key', h.temp.root], 2, /is not a key file/],
        [['--publisher', '../evil', '--key', rsaFile], 2, /"\.\.\/evil" is not a publisher name/],
        [['--publisher', PUBLISHER], 2, /Give both --publisher <publisher> and --key <file>/],
      ];
      for (const [args, status, message] of cases) {
        const result = await runAzcmagent(h.temp.root, ['extension', 'trust', ...args]);
        assert.equal(result.status, status, `${args.join(' ')}: ${result.stderr}`);
        assert.match(result.stderr, message);
      }
      assert.deepEqual(readdirSync(dir), trustedBefore);
      assert.ok(!existsSync(join(h.temp.paths.trustedPublishersDir, '..', 'evil')));
    } finally {
      await h.remove();
    }
  });

  void test('changing commands refuse other users', async () => {
    const h = harness();
    try {
      const asNobody = { uid: 65534, gid: 65534 };
      const trust = await runAzcmagent(
        h.temp.root,
        ['extension', 'trust', '--publisher', 'P', '--key', 'k'],
        asNobody,
      );
      assert.equal(trust.status, 3);
      assert.match(
        trust.stderr,
        /Run it as root: sudo azcmagent extension trust --publisher P --key k/,
      );
      const untrust = await runAzcmagent(
        h.temp.root,
        ['extension', 'untrust', '--publisher', 'P', '--key-id', 'k'],
        asNobody,
      );
      assert.equal(untrust.status, 3);
      const remove = await runAzcmagent(h.temp.root, ['extension', 'remove', '--all'], asNobody);
      assert.equal(remove.status, 3);
    } finally {
      await h.remove();
    }
  });
});
