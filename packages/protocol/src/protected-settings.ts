// Protected extension settings (B10): encrypted on arrival to the target machine's public key
// (the P-256 `clientPublicKey` it onboarded with) as a compact JWE — ECDH-ES key agreement,
// A256GCM content encryption — so that only the machine's private key can read them.
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { CompactEncrypt, compactDecrypt } from 'jose';
import { TetherError } from './tether-error.js';

/** How protected settings travel and rest: never in clear outside the machine. */
export interface SealedSettings {
  /** Compact JWE of the settings JSON. */
  readonly jwe: string;
  /** base64url SHA-256 of the SPKI DER of the key it was sealed to (the machine credential's kid). */
  readonly keyId: string;
}

export type ProtectedSettingsErrorCode = 'ERR_PROTECTED_SETTINGS';

/** `clientPublicKey` is base64 SPKI DER, as machines report it. */
export async function sealProtectedSettings(
  settings: Readonly<Record<string, unknown>>,
  clientPublicKey: string,
): Promise<SealedSettings> {
  const der = Buffer.from(clientPublicKey, 'base64');
  const key = createPublicKey({ key: der, format: 'der', type: 'spki' });
  const jwe = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify(settings)))
    .setProtectedHeader({ alg: 'ECDH-ES', enc: 'A256GCM', cty: 'json' })
    .encrypt(key);
  return { jwe, keyId: createHash('sha256').update(der).digest('base64url') };
}

export async function openProtectedSettings(
  sealed: SealedSettings,
  privateKey: KeyObject,
): Promise<Record<string, unknown>> {
  try {
    const { plaintext } = await compactDecrypt(sealed.jwe, privateKey, {
      keyManagementAlgorithms: ['ECDH-ES'],
      contentEncryptionAlgorithms: ['A256GCM'],
    });
    const value: unknown = JSON.parse(new TextDecoder().decode(plaintext));
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new Error('not an object');
    return value as Record<string, unknown>;
  } catch (error) {
    throw new TetherError(
      'ERR_PROTECTED_SETTINGS',
      `The protected settings cannot be decrypted with this machine's key (key id ${sealed.keyId}).`,
      { cause: error },
    );
  }
}
