// A publisher's public key as a trust-store file: SPKI PEM, Ed25519 or ECDSA P-256 only, named
// after its key id so the same key is never stored twice.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { publisherKeyId, signatureAlgorithm } from '@tether/protocol/extension-package';
import { AgentError } from '../../errors.js';

/** Publisher names become folder names; the same rule as extension folders. */
export const PUBLISHER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export function assertPublisherName(publisher: string): void {
  if (!PUBLISHER_PATTERN.test(publisher)) {
    throw new AgentError(
      'ERR_INVALID_EXTENSION_NAME',
      `"${publisher}" is not a publisher name: use letters, digits, '.', '_' and '-' (for example Microsoft.Azure.Monitor).`,
      { target: publisher },
    );
  }
}

/** Parses one SPKI PEM public key; anything else (a private key, RSA, several keys) is refused. */
export function parsePublisherKey(pem: string, source: string): KeyObject {
  const blocks = pem.match(/-----BEGIN [A-Z ]+-----/g) ?? [];
  const invalid = (why: string): AgentError =>
    new AgentError('ERR_PUBLISHER_KEY_INVALID', `${source} ${why}`, { target: source });
  if (blocks.some((header) => header.includes('PRIVATE'))) {
    throw invalid(
      "holds a private key; give the publisher's public key instead (publisher.pub.pem).",
    );
  }
  if (blocks.length !== 1 || blocks[0] !== '-----BEGIN PUBLIC KEY-----') {
    throw invalid(
      'is not one PEM public key (-----BEGIN PUBLIC KEY-----, SPKI) for Ed25519 or ECDSA P-256.',
    );
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch (error) {
    throw new AgentError(
      'ERR_PUBLISHER_KEY_INVALID',
      `${source} is not a readable public key (${(error as Error).message}).`,
      { target: source, cause: error },
    );
  }
  try {
    signatureAlgorithm(key);
  } catch {
    throw invalid(
      `is a ${key.asymmetricKeyType ?? 'unknown'} key; publisher keys must be Ed25519 or ECDSA P-256.`,
    );
  }
  return key;
}

/** `<key id>.pem`, the key id being the base64url SHA-256 of the SPKI DER. */
export function publisherKeyFileName(key: KeyObject): string {
  return `${publisherKeyId(key)}.pem`;
}

/** The canonical PEM of a public key: never the bytes an administrator handed in. */
export function publisherKeyPem(key: KeyObject): string {
  return key.export({ format: 'pem', type: 'spki' }).toString();
}
