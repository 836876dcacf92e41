// A machine's public key as `azcmagent connect` sends it (`properties.clientPublicKey`): base64
// DER SubjectPublicKeyInfo of an ECDSA P-256 key, and the key id assertions name it by.
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { invalidContent } from '../resources/arm-request.js';

export interface ClientPublicKey {
  /** Canonical base64 of the SPKI DER. */
  base64: string;
  /** base64url SHA-256 of the SPKI DER: the `kid` of the machine's client assertions. */
  keyId: string;
  key: KeyObject;
}

const TARGET = 'properties.clientPublicKey';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Validates the key; every refusal says what is wrong with it. */
export function parseClientPublicKey(text: string): ClientPublicKey {
  const compact = text.replace(/\s+/g, '');
  if (compact.length === 0 || compact.length % 4 !== 0 || !BASE64.test(compact)) {
    throw invalidContent(TARGET, 'must be base64 of the DER SubjectPublicKeyInfo of a P-256 key');
  }
  const der = Buffer.from(compact, 'base64');
  let key: KeyObject;
  try {
    key = createPublicKey({ key: der, format: 'der', type: 'spki' });
  } catch {
    throw invalidContent(TARGET, 'is not a DER SubjectPublicKeyInfo public key');
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw invalidContent(
      TARGET,
      `is a ${[key.asymmetricKeyType, key.asymmetricKeyDetails?.namedCurve].filter(Boolean).join(' ')} key; machine keys must be ECDSA P-256`,
    );
  }
  return { base64: der.toString('base64'), keyId: keyIdOf(der), key };
}

export function keyIdOf(spkiDer: Buffer): string {
  return createHash('sha256').update(spkiDer).digest('base64url');
}
