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
  /** Who published it: an app id, user principal name or object id. */
  publishedBy: string;
  /** That principal's display name, where the directory still holds it (lists and reads add it). */
  publishedByDisplayName?: string | null;
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
    ...digestOf(zip),
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
  return signStatement(privateKey, signatureType, packageStatement(identity, zip));
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
  return readUnverified(signature, PACKAGE_FIELDS);
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
  const { publisher, type, version } = expected;
  return verifyStatement(signature, trustedKeys, digestOf(zip), {
    typ: signatureType,
    expected: { publisher, type, version },
    name: `${publisher}/${type} ${version}`,
    trustedFor: `publisher ${publisher}`,
  });
}

// Agent packages: the same kind of statement for an azcmagent .deb, with a `typ` of its own so
// that no extension or guest configuration signature passes as one, nor one of these as theirs.

/** The `typ` of every agent package signature. */
export const AGENT_PACKAGE_SIGNATURE_TYPE = 'tether-agent-package+jws';

/** The one package an agent package signature may name. */
export const AGENT_PACKAGE_NAME = 'azcmagent';

/** What a publisher signs for an agent package. */
export interface AgentPackageStatement {
  readonly package: string;
  /** The Debian version of the package. */
  readonly version: string;
  /** Lower-case hex SHA-256 of the .deb. */
  readonly sha256: string;
  readonly size: number;
}

export function agentPackageStatement(version: string, deb: Uint8Array): AgentPackageStatement {
  return { package: AGENT_PACKAGE_NAME, version, ...digestOf(deb) };
}

export async function signAgentPackage(
  privateKey: KeyObject,
  version: string,
  deb: Uint8Array,
): Promise<string> {
  return signStatement(
    privateKey,
    AGENT_PACKAGE_SIGNATURE_TYPE,
    agentPackageStatement(version, deb),
  );
}

/** Reads an agent package signature's statement without trusting it (never for decisions). */
export function readUnverifiedAgentPackageStatement(signature: string): AgentPackageStatement {
  return readUnverified(signature, AGENT_PACKAGE_FIELDS);
}

/**
 * Accepts the .deb only if `signature` is an agent package signature made by one of
 * `trustedKeys` (the keys this machine trusts for agent packages), names azcmagent of exactly
 * `version`, and matches the bytes. Throws ERR_PACKAGE_SIGNATURE saying which check failed.
 */
export async function verifyAgentPackage(
  signature: string,
  trustedKeys: readonly KeyObject[],
  version: string,
  deb: Uint8Array,
): Promise<AgentPackageStatement> {
  return verifyAgentPackageStatement(signature, trustedKeys, { version, ...digestOf(deb) });
}

/**
 * The same checks against a package known by its SHA-256 and size (a goal state's), so a machine
 * can refuse a package before downloading it; the bytes must then be checked against the digest.
 */
export async function verifyAgentPackageStatement(
  signature: string,
  trustedKeys: readonly KeyObject[],
  expected: { readonly version: string; readonly sha256: string; readonly size: number },
): Promise<AgentPackageStatement> {
  const { version, sha256, size } = expected;
  return verifyStatement(
    signature,
    trustedKeys,
    { sha256, size },
    {
      typ: AGENT_PACKAGE_SIGNATURE_TYPE,
      expected: { package: AGENT_PACKAGE_NAME, version },
      name: `${AGENT_PACKAGE_NAME} ${version}`,
      trustedFor: 'agent packages',
    },
  );
}

// One implementation for every kind: a JSON statement of named text fields plus the SHA-256 and
// size of the bytes, signed as a compact JWS whose `typ` says the kind.

const PACKAGE_FIELDS = ['publisher', 'type', 'version'] as const;
const AGENT_PACKAGE_FIELDS = ['package', 'version'] as const;

type Statement<F extends string> = Record<F, string> & {
  readonly sha256: string;
  readonly size: number;
};

interface StatementCheck<F extends string> {
  readonly typ: string;
  /** The fields naming what is signed, with the values they must hold. */
  readonly expected: Readonly<Record<F, string>>;
  /** What messages call the package, e.g. `Contoso.Tools/Inventory 1.2.0`. */
  readonly name: string;
  /** Whose keys are asked, e.g. `publisher Contoso.Tools`. */
  readonly trustedFor: string;
}

function digestOf(bytes: Uint8Array): { sha256: string; size: number } {
  return { sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.byteLength };
}

async function signStatement(
  privateKey: KeyObject,
  typ: string,
  statement: object,
): Promise<string> {
  const alg = signatureAlgorithm(privateKey);
  return new CompactSign(new TextEncoder().encode(JSON.stringify(statement)))
    .setProtectedHeader({ alg, typ, kid: publisherKeyId(privateKey) })
    .sign(privateKey);
}

function readUnverified<F extends string>(signature: string, fields: readonly F[]): Statement<F> {
  const parts = signature.split('.');
  if (parts.length !== 3 || parts[1] === undefined)
    throw refuse('The signature is not a compact JWS.');
  try {
    decodeProtectedHeader(signature);
    return parseStatement(JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')), fields);
  } catch (error) {
    if (error instanceof TetherError) throw error;
    throw refuse('The signature is not a compact JWS with a JSON statement.');
  }
}

async function verifyStatement<F extends string>(
  signature: string,
  trustedKeys: readonly KeyObject[],
  actual: { readonly sha256: string; readonly size: number },
  check: StatementCheck<F>,
): Promise<Statement<F>> {
  const { name, typ } = check;
  if (trustedKeys.length === 0) {
    throw refuse(`No key is trusted for ${check.trustedFor}, so ${name} cannot be verified.`);
  }
  if (signature.trim() === '') throw refuse(`The package ${name} has no signature.`);
  let header;
  try {
    header = decodeProtectedHeader(signature);
  } catch {
    throw refuse(`The signature of ${name} is not a compact JWS.`);
  }
  if (header.typ !== typ) {
    throw refuse(
      `The signature of ${name} is of kind "${untrustedText(header.typ)}", not "${typ}".`,
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
    throw refuse(`The signature of ${name} was not made by a key trusted for ${check.trustedFor}.`);
  }
  const fields = Object.keys(check.expected) as F[];
  let statement: Statement<F>;
  try {
    statement = parseStatement(JSON.parse(new TextDecoder().decode(payload)), fields);
  } catch {
    throw refuse(`The signed statement of ${name} is malformed.`);
  }
  for (const field of fields) {
    if (statement[field] !== check.expected[field]) {
      throw refuse(
        `The signature of ${name} is for ${field} "${untrustedText(statement[field])}", not "${check.expected[field]}".`,
      );
    }
  }
  if (actual.size !== statement.size || actual.sha256 !== statement.sha256) {
    throw refuse(`The package ${name} does not match its signature: it was altered after signing.`);
  }
  return statement;
}

function parseStatement<F extends string>(value: unknown, fields: readonly F[]): Statement<F> {
  const bad = (): never => {
    throw refuse(`The signed statement lacks ${[...fields, 'sha256'].join(', ')} or size.`);
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
  const named = Object.fromEntries(fields.map((field) => [field, text(field)])) as Record<
    F,
    string
  >;
  return { ...named, sha256, size };
}
