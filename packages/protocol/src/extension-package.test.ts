import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { CompactSign } from 'jose';
import {
  AGENT_PACKAGE_SIGNATURE_TYPE,
  publisherKeyId,
  readUnverifiedAgentPackageStatement,
  readUnverifiedStatement,
  signAgentPackage,
  signPackage,
  verifyAgentPackage,
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

void describe('agent package signatures', () => {
  const deb = Buffer.from('!<arch>\n pretend azcmagent package bytes');

  void it('verifies a signature over the exact .deb and names azcmagent, the version and digest', async () => {
    for (const pair of [ed, ec]) {
      const signature = await signAgentPackage(pair.privateKey, '1.2.0', deb);
      const statement = await verifyAgentPackage(
        signature,
        [other.publicKey, pair.publicKey],
        '1.2.0',
        deb,
      );
      assert.deepEqual(statement, {
        package: 'azcmagent',
        version: '1.2.0',
        sha256: createHash('sha256').update(deb).digest('hex'),
        size: deb.byteLength,
      });
      assert.deepEqual(readUnverifiedAgentPackageStatement(signature), statement);
    }
  });

  void it('refuses another version, another digest and a tampered payload', async () => {
    const signature = await signAgentPackage(ed.privateKey, '1.2.0', deb);
    await assert.rejects(
      verifyAgentPackage(signature, [ed.publicKey], '1.3.0', deb),
      refusal(/signature of azcmagent 1.3.0 is for version "1.2.0", not "1.3.0"/),
    );
    const altered = Buffer.concat([deb, Buffer.from('x')]);
    await assert.rejects(
      verifyAgentPackage(signature, [ed.publicKey], '1.2.0', altered),
      refusal(/azcmagent 1.2.0 does not match its signature: it was altered after signing/),
    );
    const [header, , sig] = signature.split('.');
    const forged = Buffer.from(
      JSON.stringify({ ...readUnverifiedAgentPackageStatement(signature), version: '9.0.0' }),
    ).toString('base64url');
    await assert.rejects(
      verifyAgentPackage(`${header}.${forged}.${sig}`, [ed.publicKey], '9.0.0', deb),
      refusal(/azcmagent 9.0.0 was not made by a key trusted for agent packages/),
    );
  });

  void it('refuses an unknown signer, no trusted key and no signature', async () => {
    const signature = await signAgentPackage(other.privateKey, '1.2.0', deb);
    await assert.rejects(
      verifyAgentPackage(signature, [ed.publicKey, ec.publicKey], '1.2.0', deb),
      refusal(/not made by a key trusted for agent packages/),
    );
    await assert.rejects(
      verifyAgentPackage(signature, [], '1.2.0', deb),
      refusal(/No key is trusted for agent packages, so azcmagent 1.2.0 cannot be verified/),
    );
    await assert.rejects(
      verifyAgentPackage(' ', [ed.publicKey], '1.2.0', deb),
      refusal(/no signature/),
    );
  });

  void it('never takes an extension signature for an agent package signature, nor the reverse', async () => {
    const extension = await signPackage(ed.privateKey, identity, deb);
    await assert.rejects(
      verifyAgentPackage(extension, [ed.publicKey], '1.2.0', deb),
      refusal(/of kind "tether-extension-package\+jws", not "tether-agent-package\+jws"/),
    );
    const agent = await signAgentPackage(ed.privateKey, '1.2.0', deb);
    await assert.rejects(
      verifyPackage(agent, [ed.publicKey], identity, deb),
      refusal(/of kind "tether-agent-package\+jws", not "tether-extension-package\+jws"/),
    );
  });

  void it('refuses a statement of the agent kind that names another package or lacks a field', async () => {
    const sign = (statement: object): Promise<string> =>
      new CompactSign(Buffer.from(JSON.stringify(statement)))
        .setProtectedHeader({ alg: 'EdDSA', typ: AGENT_PACKAGE_SIGNATURE_TYPE })
        .sign(ed.privateKey);
    const digest = { sha256: createHash('sha256').update(deb).digest('hex'), size: deb.byteLength };
    await assert.rejects(
      verifyAgentPackage(
        await sign({ package: 'evil', version: '1.2.0', ...digest }),
        [ed.publicKey],
        '1.2.0',
        deb,
      ),
      refusal(/is for package "evil", not "azcmagent"/),
    );
    await assert.rejects(
      verifyAgentPackage(await sign({ version: '1.2.0', ...digest }), [ed.publicKey], '1.2.0', deb),
      refusal(/signed statement of azcmagent 1.2.0 is malformed/),
    );
  });
});
