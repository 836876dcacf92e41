// Reading a package upload `{package, signature}`: the zip must be base64 of a zip no larger
// than the repository takes, and the signature a package signature whose statement names this
// very package and these very bytes. Who signed it is the agent's question, not this one's.
import { GUEST_CONFIGURATION_SIGNATURE_TYPE, TetherError, untrustedText } from '@tether/protocol';
import {
  PACKAGE_SIGNATURE_TYPE,
  packageStatement,
  readUnverifiedStatement,
  type PackageIdentity,
  type PackageStatement,
} from '@tether/protocol/extension-package';
import type { FastifyRequest } from 'fastify';
import { decodeProtectedHeader } from 'jose';
import { ArmError } from '../api/arm-error.js';
import {
  bodyObject,
  field,
  rejectUnknownFields,
  type JsonObject,
} from '../resources/arm-request.js';

/** The largest package zip the repository takes. */
export const MAX_PACKAGE_BYTES = 32 * 1024 * 1024;
/** Room for the zip in base64 (4 characters per 3 bytes), the signature and the JSON around them. */
export const UPLOAD_BODY_LIMIT = Math.ceil(MAX_PACKAGE_BYTES / 3) * 4 + 64 * 1024;

const MAX_SIGNATURE_LENGTH = 8 * 1024;
const ZIP_MAGIC = Buffer.from('PK\x03\x04', 'latin1');
/**
 * Extension packages and guest configuration packages share the repository; each kind is signed
 * with its own `typ`, and the agent accepts only the kind it expects where it expects it.
 */
const SIGNATURE_TYPES: readonly string[] = [
  PACKAGE_SIGNATURE_TYPE,
  GUEST_CONFIGURATION_SIGNATURE_TYPE,
];

export interface PackageUpload {
  /** The zip as sent (base64), stored as is. */
  content: string;
  bytes: Buffer;
  signature: string;
  statement: PackageStatement;
}

const invalid = (target: string, message: string): ArmError =>
  new ArmError('InvalidRequestContent', message, { target });

export function readUpload(request: FastifyRequest, identity: PackageIdentity): PackageUpload {
  const body = bodyObject(request);
  rejectUnknownFields(body, ['package', 'signature'], '');
  const { content, bytes } = readPackageField(body, 'the zip', MAX_PACKAGE_BYTES);
  if (!bytes.subarray(0, ZIP_MAGIC.byteLength).equals(ZIP_MAGIC)) {
    throw invalid('package', "'package' is not a zip file (it does not start with PK\\x03\\x04).");
  }
  const signature = readSignatureField(body, 'the package signature', MAX_SIGNATURE_LENGTH);
  const statement = checkSignedStatement(signature, {
    kind: 'a package signature',
    types: SIGNATURE_TYPES,
    read: readUnverifiedStatement,
    actual: packageStatement(identity, bytes),
    names: ['publisher', 'type', 'version'],
  });
  return { content, bytes, signature, statement };
}

/**
 * An upload's `package` field: canonical base64 of at most `maxBytes` bytes, the file as sent
 * and decoded; `what` names the file in the refusal of a missing one (e.g. `the zip`).
 */
export function readPackageField(
  body: JsonObject,
  what: string,
  maxBytes: number,
): { content: string; bytes: Buffer } {
  const content = field(body, 'package');
  if (typeof content !== 'string' || content === '') {
    throw invalid('package', `'package' is required: ${what}, base64-encoded.`);
  }
  const bytes = Buffer.from(content, 'base64');
  // Node's decoder skips what it does not understand; only canonical base64 encodes back the same.
  if (bytes.toString('base64') !== content) {
    throw invalid(
      'package',
      "'package' is not valid base64: use A-Z, a-z, 0-9, '+' and '/' with '=' padding, no line breaks.",
    );
  }
  if (bytes.byteLength > maxBytes) {
    throw invalid(
      'package',
      `The package is ${bytes.byteLength} bytes; packages of at most ${maxBytes} bytes (${maxBytes / 1024 / 1024} MiB) are taken.`,
    );
  }
  return { content, bytes };
}

/** An upload's `signature` field: a non-empty string of at most `maxLength` characters. */
export function readSignatureField(body: JsonObject, what: string, maxLength: number): string {
  const signature = field(body, 'signature');
  if (typeof signature !== 'string' || signature === '') {
    throw invalid('signature', `'signature' is required: ${what}, a compact JWS.`);
  }
  if (signature.length > maxLength) {
    throw invalid('signature', `'signature' is longer than ${maxLength} characters.`);
  }
  return signature;
}

export interface StatementCheck<S extends SignedBytes> {
  /** What the refusals call a valid one, e.g. `a package signature`. */
  readonly kind: string;
  /** The JWS `typ`s taken. */
  readonly types: readonly string[];
  /** Reads the statement without verifying it (protocol/extension-package). */
  readonly read: (signature: string) => S;
  /** The statement of what is uploaded. */
  readonly actual: S;
  /** The fields naming the package, compared one by one. */
  readonly names: readonly (keyof S & string)[];
}

interface SignedBytes {
  readonly sha256: string;
  readonly size: number;
}

/**
 * The signature must be of one of the kinds taken, by EdDSA or ES256, and its statement must name
 * exactly the package uploaded, its SHA-256 and size; who signed it is for each agent to judge,
 * with the keys its root trusts. Throws 400 naming `signature` and what differs.
 */
export function checkSignedStatement<S extends SignedBytes>(
  signature: string,
  check: StatementCheck<S>,
): S {
  const notOurs = (why: string): ArmError =>
    invalid('signature', `The signature is not ${check.kind}: ${why}`);
  let header;
  try {
    header = decodeProtectedHeader(signature);
  } catch {
    throw notOurs('it is not a compact JWS.');
  }
  if (typeof header.typ !== 'string' || !check.types.includes(header.typ)) {
    throw notOurs(
      `its typ is "${untrustedText(header.typ)}", not ${check.types.map((t) => `"${t}"`).join(' or ')}.`,
    );
  }
  if (header.alg !== 'EdDSA' && header.alg !== 'ES256') {
    throw invalid(
      'signature',
      `The signature uses algorithm "${untrustedText(header.alg)}"; package signatures use EdDSA or ES256.`,
    );
  }
  let signed: S;
  try {
    signed = check.read(signature);
  } catch (error) {
    if (!(error instanceof TetherError)) throw error;
    throw notOurs(error.message);
  }
  const { actual } = check;
  for (const name of check.names) {
    if (signed[name] !== actual[name]) {
      throw invalid(
        'signature',
        `The signature is for ${name} ${untrustedText(signed[name])}, not ${String(actual[name])}; sign the package for the ${name} it is published as.`,
      );
    }
  }
  if (signed.sha256 !== actual.sha256 || signed.size !== actual.size) {
    throw invalid(
      'signature',
      `The package does not match the SHA-256 in its signature (signed ${signed.sha256}, ${signed.size} bytes; received ${actual.sha256}, ${actual.size} bytes); sign the bytes you upload.`,
    );
  }
  return signed;
}
