// The generated TLS identity: a CA and a server certificate with the right names and modes,
// kept across starts, reissued for a new name or near expiry, and a brought pair checked.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isTetherError } from '@tether/protocol';
import { ManualClock } from '../clock.js';
import { loadProvidedTls } from './provided-tls.js';
import { ensureTlsMaterial, SERVER_RENEW_BEFORE_MS, tlsPaths } from './tls-material.js';

const NAMES = ['localhost', '127.0.0.1', '::1', 'tether.example'];
const DAY_MS = 86_400_000;

void describe('TLS material', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'tether-tls-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  void it('creates a CA and a server certificate it signs, with every name, keys 0600 in a 0700 directory', async () => {
    const dir = join(root, 'fresh');
    const clock = new ManualClock(Date.now());
    const material = await ensureTlsMaterial(dir, NAMES, clock);
    const paths = tlsPaths(dir);
    assert.equal(material.caCertPath, paths.caCert);
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    assert.equal((await stat(paths.caKey)).mode & 0o777, 0o600);
    assert.equal((await stat(paths.serverKey)).mode & 0o777, 0o600);

    const caPem = await readFile(paths.caCert, 'utf8');
    const ca = new X509Certificate(caPem);
    const server = new X509Certificate(material.cert);
    // Joined into a bundle by `cat`, each file must end its last line.
    assert.ok(caPem.endsWith('-----END CERTIFICATE-----\n'), 'the CA file ends with a newline');
    assert.ok(material.cert.endsWith('\n'), 'the server certificate ends with a newline');
    assert.ok(ca.ca);
    assert.ok(server.checkIssued(ca) && server.verify(ca.publicKey));
    assert.equal(server.publicKey.asymmetricKeyType, 'ec');
    for (const name of ['localhost', 'tether.example']) assert.equal(server.checkHost(name), name);
    for (const ip of ['127.0.0.1', '::1']) assert.ok(server.checkIP(ip) !== undefined, ip);
    assert.equal(server.checkHost('other.example'), undefined);
  });

  void it('reuses what it made on the next start', async () => {
    const dir = join(root, 'reuse');
    const clock = new ManualClock(Date.now());
    const first = await ensureTlsMaterial(dir, NAMES, clock);
    clock.advance(100 * DAY_MS);
    const second = await ensureTlsMaterial(dir, NAMES, clock);
    assert.equal(second.cert, first.cert);
    assert.equal(second.key, first.key);
  });

  void it('reissues the server certificate, under the same CA, for a new name or near expiry', async () => {
    const dir = join(root, 'renew');
    const clock = new ManualClock(Date.now());
    const first = await ensureTlsMaterial(dir, NAMES, clock);
    const ca = new X509Certificate(await readFile(tlsPaths(dir).caCert));

    const named = await ensureTlsMaterial(dir, [...NAMES, 'new.example'], clock);
    assert.notEqual(named.cert, first.cert);
    assert.equal(new X509Certificate(named.cert).checkHost('new.example'), 'new.example');
    assert.ok(new X509Certificate(named.cert).checkIssued(ca));

    clock.set(named.notAfter - SERVER_RENEW_BEFORE_MS + 1);
    const renewed = await ensureTlsMaterial(dir, [...NAMES, 'new.example'], clock);
    assert.notEqual(renewed.cert, named.cert);
    assert.ok(renewed.notAfter > named.notAfter);
    assert.ok(
      new X509Certificate(renewed.cert).checkIssued(ca),
      'clients keep trusting the same CA',
    );
  });

  void it('accepts a brought certificate and key only as a current pair', async () => {
    const clock = new ManualClock(Date.now());
    const a = await ensureTlsMaterial(join(root, 'a'), NAMES, clock);
    const b = await ensureTlsMaterial(join(root, 'b'), NAMES, clock);
    const files = {
      certA: join(root, 'a.crt'),
      keyA: join(root, 'a.key'),
      keyB: join(root, 'b.key'),
      junk: join(root, 'junk'),
    };
    await writeFile(files.certA, a.cert);
    await writeFile(files.keyA, a.key);
    await writeFile(files.keyB, b.key);
    await writeFile(files.junk, 'not pem');

    const loaded = await loadProvidedTls(files.certA, files.keyA, clock);
    assert.equal(loaded.cert, a.cert);
    assert.equal(loaded.caCertPath, undefined);
    const refusal = async (cert: string, key: string, at: ManualClock, message: RegExp) =>
      assert.rejects(loadProvidedTls(cert, key, at), (error: unknown) => {
        assert.ok(isTetherError(error));
        assert.match(error.message, message);
        return true;
      });
    await refusal(files.certA, files.keyB, clock, /is not the private key of the certificate/);
    await refusal(files.junk, files.keyA, clock, /is not a PEM certificate/);
    await refusal(files.certA, files.junk, clock, /not a readable, unencrypted PEM private key/);
    await refusal(join(root, 'missing.crt'), files.keyA, clock, /cannot be read/);
    await refusal(files.certA, files.keyA, new ManualClock(a.notAfter + 1), /expired/);
  });
});
