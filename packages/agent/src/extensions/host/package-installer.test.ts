// Packages are verified before anything is unpacked: unsigned, badly signed, untrusted, altered,
// traversing, linking or manifest-less packages are refused and leave no handler folder.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { FetchedPackage } from '../extension-host.js';
import { harness, PUBLISHER, TYPE, type Harness } from './testing/host-test-harness.js';
import { buildZip, handlerEntries, publisherKeys, signedPackage } from './testing/test-fixtures.js';

const identity = { publisher: PUBLISHER, type: TYPE, version: '1.0.0' };
const key = `${PUBLISHER}/${TYPE}/1.0.0`;

async function refused(
  h: Harness,
  pkg: FetchedPackage,
  code: string,
  message: RegExp,
): Promise<void> {
  h.packages.set(key, pkg);
  const outcome = await h.host.apply(h.desired('1.0.0', 1), h.fetch);
  assert.equal(outcome.result, 'Failed');
  assert.equal(outcome.error?.code, code, outcome.error?.message);
  assert.match(outcome.error?.message ?? '', message);
  assert.deepEqual(h.calls(), [], 'no handler command ran');
  const unpacked = existsSync(h.temp.paths.extensionsDir)
    ? readdirSync(h.temp.paths.extensionsDir)
    : [];
  assert.deepEqual(unpacked, [], 'nothing was unpacked');
  assert.equal(h.host.installed()[0]?.state, 'failed');
}

void describe('package verification before unpacking', () => {
  void test('unsigned, garbage, untrusted-key and altered packages are refused', async () => {
    const h = harness();
    try {
      const zip = await buildZip(handlerEntries({ callLog: h.callLog, version: '1.0.0' }));
      const good = await signedPackage(identity, zip, h.keys.privateKey);
      await refused(h, { zip, signature: '' }, 'ERR_PACKAGE_SIGNATURE', /has no signature/);
      await refused(
        h,
        { zip, signature: 'not.a.jws' },
        'ERR_PACKAGE_SIGNATURE',
        /not a compact JWS/,
      );
      const stranger = await signedPackage(identity, zip, publisherKeys().privateKey);
      await refused(h, stranger, 'ERR_PACKAGE_SIGNATURE', /not made by a key trusted/);
      const altered = Buffer.from(zip);
      altered[altered.length - 30] = (altered[altered.length - 30] ?? 0) ^ 0xff;
      await refused(
        h,
        { zip: altered, signature: good.signature },
        'ERR_PACKAGE_SIGNATURE',
        /altered/,
      );
      const otherVersion = await signedPackage(
        { ...identity, version: '9.9.9' },
        zip,
        h.keys.privateKey,
      );
      await refused(h, otherVersion, 'ERR_PACKAGE_SIGNATURE', /version "9\.9\.9"/);
      assert.deepEqual(readdirSync(h.temp.paths.downloadsDir), [], 'refused downloads are deleted');

      // The genuine package still installs.
      h.packages.set(key, good);
      assert.equal((await h.host.apply(h.desired('1.0.0', 1), h.fetch)).result, 'Succeeded');
    } finally {
      await h.remove();
    }
  });

  void test('a key file writable by others is not trusted (fail closed)', async () => {
    const h = harness();
    try {
      const dir = join(h.temp.paths.trustedPublishersDir, PUBLISHER);
      const [file = ''] = readdirSync(dir);
      chmodSync(join(dir, file), 0o666);
      const zip = await buildZip(handlerEntries({ callLog: h.callLog, version: '1.0.0' }));
      await refused(
        h,
        await signedPackage(identity, zip, h.keys.privateKey),
        'ERR_PACKAGE_SIGNATURE',
        /No key is trusted/,
      );
      assert.ok(h.logs.some((line) => /is ignored: it is writable by group or others/.test(line)));
    } finally {
      await h.remove();
    }
  });

  void test('entries outside the folder, links and missing manifests are refused', async () => {
    const h = harness();
    try {
      const base = handlerEntries({ callLog: h.callLog, version: '1.0.0' });
      // yazl will not write "../" itself: write "zz/" and patch the bytes (the signature covers the result).
      const traversal = await buildZip([...base, { name: 'zz/evil.sh', content: 'echo pwned' }]);
      const escaping = Buffer.from(
        traversal.toString('latin1').replaceAll('zz/evil.sh', '../evil.sh'),
        'latin1',
      );
      await refused(
        h,
        await signedPackage(identity, escaping, h.keys.privateKey),
        'ERR_EXTENSION_PACKAGE_INVALID',
        /\.\.\/evil/,
      );
      assert.ok(!existsSync(join(h.temp.paths.extensionsDir, '..', 'evil.sh')));

      const link = await buildZip([
        ...base,
        { name: 'link', content: '/etc/shadow', mode: 0o120777 },
      ]);
      await refused(
        h,
        await signedPackage(identity, link, h.keys.privateKey),
        'ERR_EXTENSION_PACKAGE_INVALID',
        /link or special file/,
      );

      const noManifest = await buildZip(
        base.filter((entry) => entry.name !== 'HandlerManifest.json'),
      );
      await refused(
        h,
        await signedPackage(identity, noManifest, h.keys.privateKey),
        'ERR_EXTENSION_PACKAGE_INVALID',
        /no HandlerManifest\.json/,
      );

      const badManifest = await buildZip([
        ...base.filter((entry) => entry.name !== 'HandlerManifest.json'),
        {
          name: 'HandlerManifest.json',
          content: '[{"version":1.0,"handlerManifest":{"installCommand":"x"}}]',
        },
      ]);
      await refused(
        h,
        await signedPackage(identity, badManifest, h.keys.privateKey),
        'ERR_EXTENSION_PACKAGE_INVALID',
        /uninstallCommand must be a non-empty string/,
      );
    } finally {
      await h.remove();
    }
  });

  void test('a package that unpacks past the size cap is refused', async () => {
    const h = harness({ extractLimits: { maxTotalBytes: 10_000, maxEntries: 100 } });
    try {
      const zip = await buildZip([
        ...handlerEntries({ callLog: h.callLog, version: '1.0.0' }),
        { name: 'big.bin', content: 'x'.repeat(20_000) },
      ]);
      await refused(
        h,
        await signedPackage(identity, zip, h.keys.privateKey),
        'ERR_EXTENSION_PACKAGE_INVALID',
        /more than 10000 bytes/,
      );
    } finally {
      await h.remove();
    }
  });

  void test('a download that fails is reported and installs nothing', async () => {
    const h = harness();
    try {
      const outcome = await h.host.apply(h.desired('1.0.0', 1), h.fetch);
      assert.equal(outcome.error?.code, 'ERR_EXTENSION_DOWNLOAD_FAILED');
      assert.match(outcome.error?.message ?? '', /no package/);
    } finally {
      await h.remove();
    }
  });
});
