// `azcmagent extension trust --publisher P --key FILE`: root. Adds a publisher's public key to
// the trust store (trusted-publishers/<P>/<key id>.pem, root-owned, 0644); packages signed with
// it then install. The key is validated and re-encoded; the file given is never copied as is.
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { publisherKeyId } from '@tether/protocol/extension-package';
import { AgentError } from '../errors.js';
import { assertPublisherName, parsePublisherKey } from '../extensions/host/publisher-key.js';
import { addTrustedKey } from '../extensions/host/trusted-publishers.js';
import type { CommandContext, CommandSpec } from './command-module.js';
import { requireRoot } from './require-root.js';

export const spec: CommandSpec = {
  usage: 'extension trust',
  summary: "Trust a publisher's public key for verifying its extension packages.",
  details:
    "The key must be one SPKI PEM public key (-----BEGIN PUBLIC KEY-----), Ed25519 or ECDSA P-256,\nsuch as the publisher.pub.pem that 'tether extension keygen' writes. It is stored as\nvar/opt/azcmagent/trusted-publishers/<publisher>/<key id>.pem. To stop trusting a key, delete that file.",
  flags: [
    {
      long: 'publisher',
      type: 'string',
      valueName: 'publisher',
      description: 'The publisher the key signs for (e.g. Contoso.Tools)',
    },
    { long: 'key', type: 'string', valueName: 'file', description: 'The PEM public key file' },
  ],
  positionals: { min: 0, max: 0 },
  examples: ['sudo azcmagent extension trust --publisher Contoso.Tools --key ./publisher.pub.pem'],
};

const MAX_KEY_BYTES = 64 * 1024;

export function run(context: CommandContext): number {
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
  const file = addTrustedKey(context.paths(), publisher, key);
  const keyId = publisherKeyId(key);
  if (context.json) context.printJson({ Publisher: publisher, KeyId: keyId, File: file });
  else context.out.stdout(`Publisher ${publisher} key ${keyId} is trusted (${file}).\n`);
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
