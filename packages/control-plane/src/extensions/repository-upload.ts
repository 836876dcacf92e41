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
import { bodyObject, field, rejectUnknownFields } from '../resources/arm-request.js';

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
  const content = field(body, 'package');
  if (typeof content !== 'string' || content === '') {
    throw invalid('package', "'package' is required: the zip, base64-encoded.");
  }
  const bytes = Buffer.from(content, 'base64');
  // Node's decoder skips what it does not understand; only canonical base64 encodes back the same.
  if (bytes.toString('base64') !== content) {
    throw invalid(
      'package',
      "'package' is not valid base64: use A-Z, a-z, 0-9, '+' and '/' with '=' padding, no line breaks.",
    );
  }
  if (bytes.byteLength > MAX_PACKAGE_BYTES) {
    throw invalid(
      'package',
      `The package is ${bytes.byteLength} bytes; the repository takes packages of at most ${MAX_PACKAGE_BYTES} bytes (32 MiB).`,
    );
  }
  if (!bytes.subarray(0, ZIP_MAGIC.byteLength).equals(ZIP_MAGIC)) {
    throw invalid('package', "'package' is not a zip file (it does not start with PK\\x03\\x04).");
  }
  const signature = field(body, 'signature');
  if (typeof signature !== 'string' || signature === '') {
    throw invalid('signature', "'signature' is required: the package signature, a compact JWS.");
  }
  if (signature.length > MAX_SIGNATURE_LENGTH) {
    throw invalid('signature', `'signature' is longer than ${MAX_SIGNATURE_LENGTH} characters.`);
  }
  const statement = readStatement(signature);
  checkStatement(statement, packageStatement(identity, bytes));
  return { content, bytes, signature, statement };
}

function readStatement(signature: string): PackageStatement {
  let statement: PackageStatement;
  try {
    statement = readUnverifiedStatement(signature);
  } catch (error) {
    if (!(error instanceof TetherError)) throw error;
    throw invalid('signature', `The signature is not a package signature: ${error.message}`);
  }
  const header = decodeProtectedHeader(signature);
  if (typeof header.typ !== 'string' || !SIGNATURE_TYPES.includes(header.typ)) {
    throw invalid(
      'signature',
      `The signature is not a package signature: its typ is "${untrustedText(header.typ)}", not ${SIGNATURE_TYPES.map((t) => `"${t}"`).join(' or ')}.`,
    );
  }
  if (header.alg !== 'EdDSA' && header.alg !== 'ES256') {
    throw invalid(
      'signature',
      `The signature uses algorithm "${untrustedText(header.alg)}"; package signatures use EdDSA or ES256.`,
    );
  }
  return statement;
}

function checkStatement(signed: PackageStatement, actual: PackageStatement): void {
  for (const name of ['publisher', 'type', 'version'] as const) {
    if (signed[name] !== actual[name]) {
      throw invalid(
        'signature',
        `The signature is for ${name} ${signed[name]}, not ${actual[name]}; sign the package for the ${name} it is published as.`,
      );
    }
  }
  if (signed.sha256 !== actual.sha256 || signed.size !== actual.size) {
    throw invalid(
      'signature',
      `The package does not match the SHA-256 in its signature (signed ${signed.sha256}, ${signed.size} bytes; received ${actual.sha256}, ${actual.size} bytes); sign the bytes you upload.`,
    );
  }
}
