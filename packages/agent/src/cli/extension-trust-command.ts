// `azcmagent extension trust --publisher P --key FILE`: root. Adds a publisher's public key to
// the trust store (trusted-publishers/<P>/<key id>.pem, root-owned, 0644); packages signed with
// it then install. The key is validated and re-encoded; the file given is never copied as is.
// The change is written to the local-changes journal before it is made.
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { publisherKeyId } from '@tether/protocol/extension-package';
import { AgentError } from '../errors.js';
import { assertPublisherName, parsePublisherKey } from '../extensions/host/publisher-key.js';
import { trustPublisherKey } from '../extensions/host/publisher-trust.js';
import type { CommandContext, CommandSpec } from './command-module.js';
import { requireRoot } from './require-root.js';

/** `--publisher`, as trust and untrust name it. */
export const PUBLISHER_FLAG = {
  long: 'publisher',
  type: 'string',
  valueName: 'publisher',
  description: 'The publisher the key signs for (e.g. Contoso.Tools)',
} as const;

export const spec: CommandSpec = {
  usage: 'extension trust',
  summary: "Trust a publisher's public key for verifying its extension packages.",
  details:
    "The key must be one SPKI PEM public key (-----BEGIN PUBLIC KEY-----), Ed25519 or ECDSA P-256,\nsuch as the publisher.pub.pem that 'tether extension keygen' writes. It is stored as\nvar/opt/azcmagent/trusted-publishers/<publisher>/<key id>.pem; 'azcmagent extension untrust\n--publisher P --key-id ID' stops trusting it. Each change is reported to the control plane.",
  flags: [
    PUBLISHER_FLAG,
    { long: 'key', type: 'string', valueName: 'file', description: 'The PEM public key file' },
  ],
  positionals: { min: 0, max: 0 },
  examples: ['sudo azcmagent extension trust --publisher Contoso.Tools --key ./publisher.pub.pem'],
};

const MAX_KEY_BYTES = 64 * 1024;

export async function run(context: CommandContext): Promise<number> {
  const publisher = context.flags.publisher;
  const keyFile = context.flags.key;
  requireRoot([
    'extension',
    'trust',
    ...(typeof publisher === 'string' ? ['--publisher', publisher] : []),
    ...(typeof keyFile === 'string' ? ['--key', keyFile] : []),
  ]);
  if (typeof publisher !== 'string' || typeof keyFile !== 'string') {
    throw new AgentError('ERR_USAGE', 'Give both --publisher <publisher> and --key <file>.');
  }
  assertPublisherName(publisher);
  const key = parsePublisherKey(readKeyFile(keyFile), keyFile);
  const { file, changed } = await trustPublisherKey(context.paths(), publisher, key);
  const keyId = publisherKeyId(key);
  if (context.json) {
    context.printJson({ Publisher: publisher, KeyId: keyId, File: file, Changed: changed });
  } else {
    context.out.stdout(
      `Publisher ${publisher} key ${keyId} is trusted (${file}${changed ? '' : '; it already was'}).\n`,
    );
  }
  return 0;
}

/** A key file's text: a regular file of at most 64 KiB, opened without following a FIFO's wait. */
export function readKeyFile(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw new AgentError(
      'ERR_PUBLISHER_KEY_INVALID',
      `Cannot read the key file ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)}). Nothing was changed.`,
      { target: path },
    );
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile() || stats.size > MAX_KEY_BYTES) {
      throw new AgentError(
        'ERR_PUBLISHER_KEY_INVALID',
        `${path} is not a key file (a regular file of at most ${MAX_KEY_BYTES} bytes). Nothing was changed.`,
        { target: path },
      );
    }
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}
