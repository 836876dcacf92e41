// Reads a publisher's private key for signing packages, refusing with the fix when it cannot sign.
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { signatureAlgorithm } from '@tether/protocol/extension-package';
import { usageError } from './cli-error.js';

export async function readPrivateKey(file: string): Promise<KeyObject> {
  let pem: Buffer;
  try {
    pem = await readFile(file);
  } catch (error) {
    throw usageError(
      `Cannot read the key file ${file}: ${(error as Error).message}. Make one with 'tether extension keygen --out DIR'.`,
      '--key',
    );
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw usageError(
      `The key file ${file} is not a PEM private key; pass the publisher.key written by 'tether extension keygen'.`,
      '--key',
    );
  }
  try {
    signatureAlgorithm(key);
  } catch (error) {
    throw usageError(
      `The key file ${file} cannot sign packages: ${(error as Error).message}`,
      '--key',
    );
  }
  return key;
}
