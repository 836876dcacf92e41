// Loads a guest configuration package the way extension packages are loaded: its hash must be
// the assignment's, its signature a trusted publisher's, and only then is configuration.json
// read and validated — including that no rule reaches the agent's folders through a link.
import { createHash, type KeyObject } from 'node:crypto';
import {
  CONFIGURATION_FILE,
  GUEST_CONFIGURATION_SIGNATURE_TYPE,
  isTetherError,
  parseGuestConfiguration,
  type GuestConfiguration,
} from '@tether/protocol';
import { readUnverifiedStatement, verifyPackage } from '@tether/protocol/extension-package';
import { fromBufferPromise } from 'yauzl';
import { AgentError } from '../errors.js';
import { planZip } from '../extensions/host/zip-extract.js';
import { agentFolderReached } from './rooted-path.js';

export interface SignedPackage {
  /** The package zip as downloaded from the assignment's contentUri. */
  readonly zip: Uint8Array;
  /** The publisher's compact JWS over the zip. */
  readonly signature: string;
}

/** What the assignment says the package is (`guestConfiguration{name, version, contentHash}`). */
export interface ExpectedPackage {
  readonly name: string;
  readonly version: string;
  /** Hex SHA-256 of the zip, either case. */
  readonly contentHash: string;
}

export interface LoadedGuestConfiguration {
  readonly publisher: string;
  readonly configuration: GuestConfiguration;
}

const MAX_CONFIGURATION_BYTES = 4 * 1024 * 1024;

/**
 * Throws AgentError ERR_PACKAGE_SIGNATURE when the bytes are not the expected, trusted ones, and
 * ERR_GUEST_CONFIGURATION_INVALID when the verified content is not a valid configuration.
 */
export async function loadGuestConfigurationPackage(
  pkg: SignedPackage,
  expected: ExpectedPackage,
  trustedKeys: (publisher: string) => readonly KeyObject[],
  root: string,
): Promise<LoadedGuestConfiguration> {
  const name = `${expected.name} ${expected.version}`;
  const zip = Buffer.from(pkg.zip.buffer, pkg.zip.byteOffset, pkg.zip.byteLength);
  const sha256 = createHash('sha256').update(zip).digest('hex');
  if (sha256 !== expected.contentHash.toLowerCase()) {
    throw new AgentError(
      'ERR_PACKAGE_SIGNATURE',
      `The guest configuration package ${name} has SHA-256 ${sha256}, but its assignment expects ${expected.contentHash}; it was not evaluated.`,
      { target: name },
    );
  }
  let publisher: string;
  try {
    publisher = readUnverifiedStatement(pkg.signature).publisher;
    const identity = { publisher, type: expected.name, version: expected.version };
    await verifyPackage(
      pkg.signature,
      trustedKeys(publisher),
      identity,
      zip,
      GUEST_CONFIGURATION_SIGNATURE_TYPE,
    );
  } catch (error) {
    throw new AgentError(
      'ERR_PACKAGE_SIGNATURE',
      `${(error as Error).message} The guest configuration package ${name} was not evaluated.`,
      { cause: error, target: name },
    );
  }
  const configuration = parse(await readConfigurationFile(zip, name), name);
  if (configuration.name !== expected.name || configuration.version !== expected.version) {
    invalid(
      name,
      `holds configuration ${configuration.name} ${configuration.version}, not the one assigned`,
    );
  }
  for (const rule of configuration.rules) {
    if (rule.kind !== 'file' && rule.kind !== 'configKey') continue;
    const folder = agentFolderReached(root, rule.path);
    if (folder !== undefined) {
      invalid(
        name,
        `has rule "${rule.id}" whose path ${rule.path} leads, through a link, into the agent's folder ${folder}; guest configuration may not touch the agent`,
      );
    }
  }
  return { publisher, configuration };
}

async function readConfigurationFile(zip: Buffer, name: string): Promise<string> {
  const planned = await planZip(zip, name);
  const item = planned.find((p) => p.relative === CONFIGURATION_FILE && !p.directory);
  if (item === undefined) invalid(name, `has no ${CONFIGURATION_FILE} at its top level`);
  if (item.entry.uncompressedSize > MAX_CONFIGURATION_BYTES) {
    invalid(name, `has a ${CONFIGURATION_FILE} larger than ${MAX_CONFIGURATION_BYTES} bytes`);
  }
  const zipfile = await fromBufferPromise(zip, { strictFileNames: true, validateEntrySizes: true });
  try {
    for await (const entry of zipfile.eachEntry()) {
      if (entry.fileName !== CONFIGURATION_FILE) continue;
      const chunks: Buffer[] = [];
      for await (const chunk of await zipfile.openReadStreamPromise(entry)) {
        chunks.push(chunk as Buffer);
      }
      return Buffer.concat(chunks).toString('utf8');
    }
  } finally {
    zipfile.close();
  }
  return invalid(name, `has no ${CONFIGURATION_FILE} at its top level`);
}

function parse(text: string, name: string): GuestConfiguration {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    invalid(name, `has a ${CONFIGURATION_FILE} that is not JSON (${(error as Error).message})`);
  }
  try {
    return parseGuestConfiguration(json);
  } catch (error) {
    if (!isTetherError(error)) throw error;
    throw new AgentError('ERR_GUEST_CONFIGURATION_INVALID', error.message, {
      cause: error,
      ...(error.target === undefined ? {} : { target: error.target }),
    });
  }
}

function invalid(name: string, why: string): never {
  throw new AgentError(
    'ERR_GUEST_CONFIGURATION_INVALID',
    `The guest configuration package ${name} ${why}.`,
    { target: name },
  );
}
