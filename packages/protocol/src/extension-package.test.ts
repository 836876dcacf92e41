import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  publisherKeyId,
  readUnverifiedStatement,
  signPackage,
  verifyPackage,
  type PackageIdentity,
} from './extension-package.js';

const identity: PackageIdentity = {
  publisher: 'Contoso.Tools',
  type: 'Inventory',
  version: '1.2.0',
};
const zip = Buffer.from('PK\u0003\u0004 pretend zip bytes');
const ed = generateKeyPairSync('ed25519');
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const other = generateKeyPairSync('ed25519');

const refusal = (pattern: RegExp) => (error: unknown) => {
  assert.equal((error as { code?: string }).code, 'ERR_PACKAGE_SIGNATURE');
  assert.match((error as Error).message, pattern);
  return true;
};

void describe('extension package signatures', () => {
  void it('verifies an Ed25519 and a P-256 signature over the exact bytes', async () => {
    for (const pair of [ed, ec]) {
      const signature = await signPackage(pair.privateKey, identity, zip);
      const statement = await verifyPackage(signature, [pair.publicKey], identity, zip);
      assert.equal(statement.size, zip.byteLength);
      assert.match(statement.sha256, /^[0-9a-f]{64}$/);
      assert.deepEqual(readUnverifiedStatement(signature), statement);
    }
  });

  void it('accepts a signature made by any one of several trusted keys', async () => {
    const signature = await signPackage(ed.privateKey, identity, zip);
    await verifyPackage(signature, [other.publicKey, ec.publicKey, ed.publicKey], identity, zip);
  });

  void it('refuses a package altered after signing', async () => {
    const signature = await signPackage(ed.privateKey, identity, zip);
    const altered = Buffer.from(zip);
    altered.writeUInt8(altered.readUInt8(0) ^ 1, 0);
    await assert.rejects(
      verifyPackage(signature, [ed.publicKey], identity, altered),
      refusal(/altered after signing/),
    );
  });

  void it('refuses a signature by an untrusted key, a missing signature and no trusted key', async () => {
    const signature = await signPackage(other.privateKey, identity, zip);
    await assert.rejects(
      verifyPackage(signature, [ed.publicKey], identity, zip),
      refusal(/not made by a key trusted for publisher Contoso.Tools/),
    );
    await assert.rejects(verifyPackage('', [ed.publicKey], identity, zip), refusal(/no signature/));
    await assert.rejects(verifyPackage(signature, [], identity, zip), refusal(/No key is trusted/));
  });

  void it('refuses a valid signature for another extension or version', async () => {
    const signature = await signPackage(ed.privateKey, identity, zip);
    await assert.rejects(
      verifyPackage(signature, [ed.publicKey], { ...identity, version: '1.3.0' }, zip),
      refusal(/for version "1.2.0", not "1.3.0"/),
    );
    await assert.rejects(
      verifyPackage(signature, [ed.publicKey], { ...identity, type: 'Other' }, zip),
      refusal(/for type "Inventory"/),
    );
  });

  void it('refuses a header whose typ is an object with a non-function toString', async () => {
    // The input fuzzing found: String(typ) threw a TypeError instead of the refusal.
    const fuzzed =
      'eyJ0eXAiOnsidG9TdHJpbmciOi03NzkzODMxMjIsImNyaXQiOiJvbFJHTDRMZF84NUx3STVYOFp1RFpjRUZBelU3UG9sV01FNjEwXzY5bDJrIn0sImFsZyI6WyJiNjQiXSwiYS8iOiIifQ.LTE2OTUyOTQ3MzA.TCwyWCVDew';
    await assert.rejects(
      verifyPackage(fuzzed, [ed.publicKey], identity, zip),
      refusal(/is of kind "\{"toString":-779383122,"crit":"olRGL4Ld_85L/),
    );
    assert.throws(() => readUnverifiedStatement(fuzzed), refusal(/statement lacks/));
  });

  void it('refuses a tampered signature and a JWS of another type', async () => {
    const signature = await signPackage(ed.privateKey, identity, zip);
    const [header, payload, sig] = signature.split('.');
    const flipped = `${header}.${payload}.${sig?.startsWith('A') ? 'B' : 'A'}${sig?.slice(1)}`;
    await assert.rejects(
      verifyPackage(flipped, [ed.publicKey], identity, zip),
      refusal(/not made by a key trusted/),
    );
    const foreignHeader = Buffer.from(JSON.stringify({ alg: 'EdDSA', typ: 'JWT' })).toString(
      'base64url',
    );
    await assert.rejects(
      verifyPackage(`${foreignHeader}.${payload}.${sig}`, [ed.publicKey], identity, zip),
      refusal(/of kind "JWT", not "tether-extension-package\+jws"/),
    );
    const otherKind = await signPackage(ed.privateKey, identity, zip, 'tether-other+jws');
    await assert.rejects(
      verifyPackage(otherKind, [ed.publicKey], identity, zip),
      refusal(/of kind "tether-other\+jws"/),
    );
    await assert.rejects(
      verifyPackage('garbage', [ed.publicKey], identity, zip),
      refusal(/not a compact JWS/),
    );
  });

  void it('names a key by the same id from its private and its public half', () => {
    assert.equal(publisherKeyId(ed.privateKey), publisherKeyId(ed.publicKey));
    assert.match(publisherKeyId(ec.publicKey), /^[A-Za-z0-9_-]{43}$/);
  });

  void it('refuses RSA publisher keys', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await assert.rejects(
      signPackage(rsa.privateKey, identity, zip),
      refusal(/Ed25519 or ECDSA P-256/),
    );
  });
});
