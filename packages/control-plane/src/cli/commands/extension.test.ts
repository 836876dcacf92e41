// `tether extension`: a key pair that signs, a folder zipped the same way every time and
// uploaded with a signature the agent will accept, and each refusal naming what to fix.
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { publisherKeyId, verifyPackage } from '@tether/protocol/extension-package';
import { CliTestKit } from '../client/testing/cli-test-kit.js';
import type { RecordedRequest } from '../client/testing/fake-transport.js';
import { register } from './extension.js';

const IDENTITY = { publisher: 'Contoso.Monitoring', type: 'HealthProbe', version: '1.2.0' };
const VERSION_PATH = `/providers/Tether.Extensions/publishers/Contoso.Monitoring/types/HealthProbe/versions/1.2.0`;
const MANIFEST = [
  {
    version: 1.0,
    handlerManifest: {
      installCommand: 'bin/probe install',
      enableCommand: 'bin/probe enable',
      disableCommand: 'bin/probe disable',
      uninstallCommand: 'bin/probe uninstall',
      updateCommand: 'bin/probe update',
    },
  },
];

/** Name and Unix mode of every entry, from the zip's central directory. */
function zipEntries(zip: Buffer): { name: string; mode: number }[] {
  const entries: { name: string; mode: number }[] = [];
  for (let at = zip.indexOf('PK\x01\x02', 0, 'latin1'); at >= 0;) {
    const nameLength = zip.readUInt16LE(at + 28);
    const next = at + 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
    entries.push({
      name: zip.toString('utf8', at + 46, at + 46 + nameLength),
      mode: zip.readUInt32LE(at + 38) >>> 16,
    });
    at = zip.readUInt32LE(next) === 0x02014b50 ? next : -1;
  }
  return entries;
}

void describe('tether extension', () => {
  let kit: CliTestKit;
  let work: string;
  let handler: string;
  let keys: string;
  beforeEach(async () => {
    kit = await CliTestKit.create(register);
    await kit.signIn();
    work = await mkdtemp(join(tmpdir(), 'tether-extension-'));
    handler = join(work, 'handler');
    keys = join(work, 'keys');
    await mkdir(join(handler, 'bin'), { recursive: true });
    await writeFile(join(handler, 'HandlerManifest.json'), JSON.stringify(MANIFEST));
    await writeFile(join(handler, 'bin', 'probe'), '#!/bin/sh\necho ok\n', { mode: 0o755 });
    await writeFile(join(handler, 'README.txt'), 'a probe\n', { mode: 0o644 });
    kit.transport.on('PUT', VERSION_PATH, (r) => ({ status: 201, body: metadataOf(r) }));
  });
  afterEach(async () => {
    await kit.dispose();
    await rm(work, { recursive: true, force: true });
  });

  const metadataOf = (r: RecordedRequest) => ({
    ...IDENTITY,
    sha256: 'f'.repeat(64),
    size: Buffer.from((r.body as { package: string }).package, 'base64').byteLength,
    signature: (r.body as { signature: string }).signature,
    publishedAt: '2026-06-01T12:00:00.000Z',
    publishedBy: 'release-pipeline',
  });
  const publish = (...extra: string[]) =>
    kit.run(
      'extension',
      'publish',
      '--dir',
      handler,
      '--publisher',
      IDENTITY.publisher,
      '--type',
      IDENTITY.type,
      '--version',
      IDENTITY.version,
      '--key',
      join(keys, 'publisher.key'),
      ...extra,
    );
  const uploads = () =>
    kit.transport.requests
      .filter((r) => r.method === 'PUT')
      .map((r) => r.body as { package: string; signature: string });

  void it('keygen writes an Ed25519 pair, the private key 0600, and never overwrites', async () => {
    const run = await kit.run('extension', 'keygen', '--out', keys);
    assert.equal(run.exitCode, 0, run.stderr);
    const printed = JSON.parse(run.stdout) as Record<string, string>;
    const publicKey = createPublicKey(await readFile(join(keys, 'publisher.pub.pem')));
    assert.equal(publicKey.asymmetricKeyType, 'ed25519');
    assert.deepEqual(printed, {
      privateKey: join(keys, 'publisher.key'),
      publicKey: join(keys, 'publisher.pub.pem'),
      keyId: publisherKeyId(createPrivateKey(await readFile(join(keys, 'publisher.key')))),
    });
    assert.equal((await stat(join(keys, 'publisher.key'))).mode & 0o777, 0o600);
    assert.match(
      await readFile(join(keys, 'publisher.key'), 'utf8'),
      /^-----BEGIN PRIVATE KEY-----/,
    );

    const before = await readFile(join(keys, 'publisher.key'));
    const again = await kit.run('extension', 'keygen', '--out', keys);
    assert.equal(again.exitCode, 2);
    assert.match(again.stderr, /publisher\.key already exists/);
    assert.deepEqual(await readFile(join(keys, 'publisher.key')), before);
    assert.deepEqual(kit.transport.requests, []);
  });

  void it('publish uploads a zip whose signature verifies with the public key', async () => {
    assert.equal((await kit.run('extension', 'keygen', '--out', keys)).exitCode, 0);
    const run = await publish('-o', 'table');
    assert.equal(run.exitCode, 0, run.stderr);
    assert.deepEqual(kit.transport.calls(), [`PUT ${VERSION_PATH}`]);
    assert.equal(kit.transport.requests.at(-1)?.query.get('api-version'), '2024-07-10');
    const [upload] = uploads();
    assert.ok(upload !== undefined);
    const zip = Buffer.from(upload.package, 'base64');
    const publicKey = createPublicKey(await readFile(join(keys, 'publisher.pub.pem')));
    const statement = await verifyPackage(upload.signature, [publicKey], IDENTITY, zip);
    assert.equal(statement.size, zip.byteLength);
    assert.deepEqual(zipEntries(zip), [
      { name: 'HandlerManifest.json', mode: 0o100644 },
      { name: 'README.txt', mode: 0o100644 },
      { name: 'bin/probe', mode: 0o100755 },
    ]);
    assert.match(run.stdout, /^Publisher +Type +Version +Size +PublishedAt +PublishedBy\n/);
    assert.match(run.stdout, /Contoso\.Monitoring +HealthProbe +1\.2\.0 +\d+ /);
  });

  void it('publish zips the same folder to the same bytes', async () => {
    assert.equal((await kit.run('extension', 'keygen', '--out', keys)).exitCode, 0);
    assert.equal((await publish()).exitCode, 0);
    await chmod(join(handler, 'README.txt'), 0o600);
    assert.equal((await publish()).exitCode, 0);
    const [first, second] = uploads();
    assert.equal(first?.package, second?.package);
  });

  void it('publish refuses, sending nothing, what would not make a good package', async () => {
    assert.equal((await kit.run('extension', 'keygen', '--out', keys)).exitCode, 0);
    const cases: { name: string; prepare: () => Promise<unknown>; error: RegExp }[] = [
      {
        name: 'no HandlerManifest.json',
        prepare: () => rm(join(handler, 'HandlerManifest.json')),
        error: /handler has no HandlerManifest\.json; a handler folder needs one at its root/,
      },
      {
        name: 'a manifest that is not JSON',
        prepare: () => writeFile(join(handler, 'HandlerManifest.json'), '[{'),
        error: /HandlerManifest\.json is not valid JSON/,
      },
      {
        name: 'a manifest that is not an array',
        prepare: () =>
          writeFile(join(handler, 'HandlerManifest.json'), JSON.stringify(MANIFEST[0])),
        error: /must be a JSON array whose first entry has a "handlerManifest" object/,
      },
      {
        name: 'a manifest without update and uninstall commands',
        prepare: () =>
          writeFile(
            join(handler, 'HandlerManifest.json'),
            JSON.stringify([
              { handlerManifest: { installCommand: 'i', enableCommand: 'e', disableCommand: 'd' } },
            ]),
          ),
        error: /names no uninstallCommand, updateCommand in its handlerManifest/,
      },
      {
        name: 'a symbolic link',
        prepare: () => symlink('/etc/passwd', join(handler, 'bin', 'passwd')),
        error: /bin\/passwd is a symbolic link; packages hold only regular files/,
      },
      {
        name: 'a key file that is not a key',
        prepare: () => writeFile(join(keys, 'publisher.key'), 'not a key\n'),
        error: /publisher\.key is not a PEM private key/,
      },
      {
        name: 'a missing key file',
        prepare: () => rm(join(keys, 'publisher.key')),
        error: /Cannot read the key file .*publisher\.key/,
      },
      {
        name: 'an RSA key',
        prepare: async () => {
          const { generateKeyPairSync } = await import('node:crypto');
          const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
          await writeFile(
            join(keys, 'publisher.key'),
            privateKey.export({ format: 'pem', type: 'pkcs8' }),
          );
        },
        error: /cannot sign packages: A publisher key must be Ed25519 or ECDSA P-256/,
      },
    ];
    const key = await readFile(join(keys, 'publisher.key'));
    for (const c of cases) {
      await c.prepare();
      const run = await publish();
      assert.equal(run.exitCode, 2, `${c.name}: ${run.stderr}`);
      assert.match(run.stderr, c.error, c.name);
      await writeFile(join(handler, 'HandlerManifest.json'), JSON.stringify(MANIFEST));
      await rm(join(handler, 'bin', 'passwd'), { force: true });
      await writeFile(join(keys, 'publisher.key'), key, { mode: 0o600 });
    }
    const inside = join(handler, 'publisher.key');
    await writeFile(inside, key, { mode: 0o600 });
    const leaked = await publish('--key', inside);
    assert.match(leaked.stderr, /is inside the package folder .* and would be published/);
    assert.deepEqual(uploads(), []);

    const badVersion = await kit.run(
      'extension',
      'publish',
      '--dir',
      handler,
      '--publisher',
      'Contoso',
      '--type',
      'Probe',
      '--version',
      'latest',
      '--key',
      inside,
    );
    assert.equal(badVersion.exitCode, 2);
    assert.match(badVersion.stderr, /2 to 4 dotted numbers/);
  });

  void it('list shows one extension or all, and show one version', async () => {
    const row = {
      ...IDENTITY,
      sha256: 'a'.repeat(64),
      size: 10,
      signature: 's',
      publishedAt: 't',
      publishedBy: 'p',
    };
    const other = { ...row, publisher: 'Fabrikam', type: 'Agent', version: '3.0' };
    kit.transport.on('GET', '/providers/Tether.Extensions/packages', {
      body: { value: [row, other] },
    });
    kit.transport.on(
      'GET',
      `/providers/Tether.Extensions/publishers/Contoso.Monitoring/types/HealthProbe/versions`,
      {
        body: { value: [row] },
      },
    );
    kit.transport.on('GET', VERSION_PATH, { body: row });

    const all = await kit.run('extension', 'list');
    assert.deepEqual(JSON.parse(all.stdout), [row, other]);
    const fabrikam = await kit.run('extension', 'list', '--publisher', 'fabrikam');
    assert.deepEqual(JSON.parse(fabrikam.stdout), [other]);
    const one = await kit.run(
      'extension',
      'list',
      '--publisher',
      'Contoso.Monitoring',
      '--type',
      'HealthProbe',
      '-o',
      'table',
    );
    assert.match(one.stdout, /Contoso\.Monitoring +HealthProbe +1\.2\.0 +10 +t +p\n$/);
    const typeOnly = await kit.run('extension', 'list', '--type', 'HealthProbe');
    assert.equal(typeOnly.exitCode, 2);
    assert.match(typeOnly.stderr, /--type needs --publisher/);

    const shown = await kit.run(
      'extension',
      'show',
      '--publisher',
      'Contoso.Monitoring',
      '--type',
      'HealthProbe',
      '--version',
      '1.2.0',
    );
    assert.equal(shown.exitCode, 0, shown.stderr);
    assert.deepEqual(JSON.parse(shown.stdout), row);
    const missing = await kit.run(
      'extension',
      'show',
      '--publisher',
      'Contoso.Monitoring',
      '--type',
      'HealthProbe',
      '--version',
      '9.9',
    );
    assert.equal(missing.exitCode, 3);
  });
});
