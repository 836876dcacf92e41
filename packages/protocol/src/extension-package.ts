// Signed extension packages (B1). A publisher signs a small statement — which extension, which
// version, the SHA-256 and size of the zip — as a compact JWS; the agent verifies it with a key
// it trusts for that publisher, then checks the bytes against it, before anything is unpacked.
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { CompactSign, compactVerify, decodeProtectedHeader, errors } from 'jose';
import { TetherError } from './tether-error.js';
import { untrustedText } from './untrusted-text.js';

/** The `typ` of every package signature; a JWS of any other kind is refused. */
export const PACKAGE_SIGNATURE_TYPE = 'tether-extension-package+jws';

/** Package versions are dotted numbers, `major.minor[.patch[.build]]`. */
export const PACKAGE_VERSION_PATTERN = /^\d{1,9}\.\d{1,9}(?:\.\d{1,9}){0,2}$/;

/** The largest package zip the repository takes, and so the most an agent downloads. */
export const MAX_PACKAGE_BYTES = 32 * 1024 * 1024;

export interface PackageIdentity {
  readonly publisher: string;
  readonly type: string;
  readonly version: string;
}

/** What the repository's lists and reads say of a package; the zip itself is only in the download. */
export interface PackageMetadata {
  publisher: string;
  type: string;
  version: string;
  sha256: string;
  size: number;
  signature: string;
  publishedAt: string;
  publishedBy: string;
}

/** What a publisher signs. */
export interface PackageStatement extends PackageIdentity {
  /** Lower-case hex SHA-256 of the package zip. */
  readonly sha256: string;
  readonly size: number;
}

export type PackageSignatureErrorCode = 'ERR_PACKAGE_SIGNATURE';

const refuse = (message: string): TetherError<PackageSignatureErrorCode> =>
  new TetherError('ERR_PACKAGE_SIGNATURE', message);

export function packageStatement(identity: PackageIdentity, zip: Uint8Array): PackageStatement {
  return {
    publisher: identity.publisher,
    type: identity.type,
    version: identity.version,
    sha256: createHash('sha256').update(zip).digest('hex'),
    size: zip.byteLength,
  };
}

/** The JWS algorithm a publisher key signs with: Ed25519 (EdDSA) or ECDSA P-256 (ES256). */
export function signatureAlgorithm(key: KeyObject): 'EdDSA' | 'ES256' {
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
    return 'ES256';
  }
  throw refuse(
    `A publisher key must be Ed25519 or ECDSA P-256; this one is ${key.asymmetricKeyType ?? 'unknown'}.`,
  );
}

/**
 * `signatureType` is the JWS `typ`: extension packages by default; guest configuration packages
 * sign with their own, so a signature of one kind never passes as the other.
 */
export async function signPackage(
  privateKey: KeyObject,
  identity: PackageIdentity,
  zip: Uint8Array,
  signatureType: string = PACKAGE_SIGNATURE_TYPE,
): Promise<string> {
  const alg = signatureAlgorithm(privateKey);
  const statement = packageStatement(identity, zip);
  return new CompactSign(new TextEncoder().encode(JSON.stringify(statement)))
    .setProtectedHeader({ alg, typ: signatureType, kid: publisherKeyId(privateKey) })
    .sign(privateKey);
}

/** base64url SHA-256 of the public key's SPKI DER: names a publisher key in headers and logs. */
export function publisherKeyId(key: KeyObject): string {
  // Node 20 derives a public key only from a private one.
  const publicKey = key.type === 'public' ? key : createPublicKey(key);
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  return createHash('sha256').update(spki).digest('base64url');
}

/** Reads a signature's statement without trusting it (for listings; never for decisions). */
export function readUnverifiedStatement(signature: string): PackageStatement {
  const parts = signature.split('.');
  if (parts.length !== 3 || parts[1] === undefined)
    throw refuse('The signature is not a compact JWS.');
  try {
    decodeProtectedHeader(signature);
    return parseStatement(JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')));
  } catch (error) {
    if (error instanceof TetherError) throw error;
    throw refuse('The signature is not a compact JWS with a JSON statement.');
  }
}

/**
 * Accepts the package only if `signature` was made by one of `trustedKeys` (the keys this machine
 * trusts for the expected publisher), names exactly the expected publisher, type and version, and
 * matches the bytes. Throws ERR_PACKAGE_SIGNATURE saying which check failed.
 */
export async function verifyPackage(
  signature: string,
  trustedKeys: readonly KeyObject[],
  expected: PackageIdentity,
  zip: Uint8Array,
  signatureType: string = PACKAGE_SIGNATURE_TYPE,
): Promise<PackageStatement> {
  const name = `${expected.publisher}/${expected.type} ${expected.version}`;
  if (trustedKeys.length === 0) {
    throw refuse(
      `No key is trusted for publisher ${expected.publisher}, so ${name} cannot be verified.`,
    );
  }
  if (signature.trim() === '') throw refuse(`The package ${name} has no signature.`);
  let header;
  try {
    header = decodeProtectedHeader(signature);
  } catch {
    throw refuse(`The signature of ${name} is not a compact JWS.`);
  }
  if (header.typ !== signatureType) {
    throw refuse(
      `The signature of ${name} is of kind "${untrustedText(header.typ)}", not "${signatureType}".`,
    );
  }
  let payload: Uint8Array | undefined;
  for (const key of trustedKeys) {
    const alg = signatureAlgorithm(key);
    try {
      ({ payload } = await compactVerify(signature, key, { algorithms: [alg] }));
      break;
    } catch (error) {
      if (!(error instanceof errors.JOSEError)) throw error;
    }
  }
  if (payload === undefined) {
    throw refuse(
      `The signature of ${name} was not made by a key trusted for publisher ${expected.publisher}.`,
    );
  }
  let statement: PackageStatement;
  try {
    statement = parseStatement(JSON.parse(new TextDecoder().decode(payload)));
  } catch {
    throw refuse(`The signed statement of ${name} is malformed.`);
  }
  for (const field of ['publisher', 'type', 'version'] as const) {
    if (statement[field] !== expected[field]) {
      throw refuse(
        `The signature of ${name} is for ${field} "${statement[field]}", not "${expected[field]}".`,
      );
    }
  }
  const actual = packageStatement(expected, zip);
  if (actual.size !== statement.size || actual.sha256 !== statement.sha256) {
    throw refuse(`The package ${name} does not match its signature: it was altered after signing.`);
  }
  return statement;
}

function parseStatement(value: unknown): PackageStatement {
  const bad = (): never => {
    throw refuse('The signed statement lacks publisher, type, version, sha256 or size.');
  };
  if (typeof value !== 'object' || value === null) return bad();
  const record = value as Record<string, unknown>;
  const text = (key: string): string => {
    const field = record[key];
    return typeof field === 'string' ? field : bad();
  };
  const size = record['size'];
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) return bad();
  const sha256 = text('sha256');
  if (!/^[0-9a-f]{64}$/.test(sha256)) return bad();
  return {
    publisher: text('publisher'),
    type: text('type'),
    version: text('version'),
    sha256,
    size,
  };
}
