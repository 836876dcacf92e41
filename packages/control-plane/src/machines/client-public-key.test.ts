// The machine key a PUT carries: P-256 SPKI accepted with its kid; anything else refused by name.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { ArmError } from '../api/arm-error.js';
import { parseClientPublicKey } from './client-public-key.js';

const spki = (key: ReturnType<typeof generateKeyPairSync>['publicKey']): Buffer =>
  key.export({ format: 'der', type: 'spki' });

void describe('parseClientPublicKey', () => {
  void it('accepts a P-256 key and names it by the SHA-256 of its DER', () => {
    const der = spki(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);
    const parsed = parseClientPublicKey(der.toString('base64'));
    assert.equal(parsed.base64, der.toString('base64'));
    assert.equal(parsed.keyId, createHash('sha256').update(der).digest('base64url'));
  });

  void it('refuses other curves, RSA, non-keys and non-base64 with a specific message', () => {
    const cases: [string, RegExp][] = [
      [
        spki(generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey).toString('base64'),
        /secp384r1 key; machine keys must be ECDSA P-256/,
      ],
      [
        spki(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey).toString('base64'),
        /rsa key/,
      ],
      [Buffer.from('not a key').toString('base64'), /not a DER SubjectPublicKeyInfo/],
      ['***', /must be base64/],
    ];
    for (const [text, message] of cases) {
      assert.throws(
        () => parseClientPublicKey(text),
        (error: unknown) =>
          error instanceof ArmError &&
          error.target === 'properties.clientPublicKey' &&
          message.test(error.message),
      );
    }
  });
});
