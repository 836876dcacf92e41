// The machine's key pair (S17): ECDSA P-256 generated on the machine, the private half written
// as PKCS#8 PEM readable only by its owner; the public half travels as base64 SPKI DER.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { replaceFileAtomically } from '../config/atomic-file.js';

export interface MachineKey {
  readonly privateKey: KeyObject;
  readonly privatePem: string;
  /** base64 of the DER SubjectPublicKeyInfo: what `properties.clientPublicKey` carries. */
  readonly clientPublicKey: string;
  /** base64url SHA-256 of the SPKI DER: the credential's key id. */
  readonly keyId: string;
}

export function generateMachineKey(): MachineKey {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return describeKey(privateKey);
}

export function parseMachineKey(pem: string): MachineKey {
  const privateKey = createPrivateKey({ key: pem, format: 'pem' });
  if (
    privateKey.asymmetricKeyType !== 'ec' ||
    privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1'
  ) {
    throw new Error('the machine key is not an ECDSA P-256 key');
  }
  return describeKey(privateKey);
}

function describeKey(privateKey: KeyObject): MachineKey {
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return {
    privateKey,
    privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    clientPublicKey: spki.toString('base64'),
    keyId: keyIdOf(spki),
  };
}

export function keyIdOf(spkiDer: Buffer): string {
  return createHash('sha256').update(spkiDer).digest('base64url');
}

/** Atomic, mode 0600, owned by `owner` (chown only takes effect when running as root). */
export function writeMachineKey(
  path: string,
  key: MachineKey,
  owner: { uid: number; gid: number },
): void {
  replaceFileAtomically(path, key.privatePem, {
    mode: 0o600,
    ownerUid: owner.uid,
    ownerGid: owner.gid,
  });
}
