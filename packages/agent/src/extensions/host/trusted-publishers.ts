// The trust store: `trusted-publishers/<Publisher>/*.pem`. Fail closed — a folder or file that
// someone other than the trusted owner owns or can write, a link, or an unreadable key is ignored
// and logged, so nobody but root can make this server trust a publisher key.
import type { KeyObject } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { replaceFileAtomically } from '../../config/atomic-file.js';
import type { AgentPaths } from '../../paths.js';
import {
  assertPublisherName,
  parsePublisherKey,
  publisherKeyFileName,
  publisherKeyPem,
} from './publisher-key.js';

export interface TrustStoreOptions {
  readonly ownerUid: number;
  readonly log: (line: string) => void;
}

const MAX_KEY_BYTES = 64 * 1024;

/** The keys trusted for `publisher`; empty when there are none (verification then refuses). */
export function readTrustedKeys(
  paths: AgentPaths,
  publisher: string,
  options: TrustStoreOptions,
): KeyObject[] {
  assertPublisherName(publisher);
  const dir = join(paths.trustedPublishersDir, publisher);
  for (const folder of [paths.trustedPublishersDir, dir]) {
    const stats = lstatSync(folder, { throwIfNoEntry: false });
    if (stats === undefined) return [];
    const problem = stats.isDirectory() ? unsafe(stats, options.ownerUid) : 'is not a folder';
    if (problem !== undefined) {
      options.log(`trusted publisher keys in ${folder} are ignored: it ${problem}`);
      return [];
    }
  }
  const keys: KeyObject[] = [];
  for (const entry of readdirSync(dir).sort()) {
    if (!entry.endsWith('.pem')) continue;
    const file = join(dir, entry);
    const stats = lstatSync(file, { throwIfNoEntry: false });
    if (stats === undefined) continue;
    const problem = !stats.isFile()
      ? 'is not a regular file'
      : stats.size > MAX_KEY_BYTES
        ? `is larger than ${MAX_KEY_BYTES} bytes`
        : unsafe(stats, options.ownerUid);
    if (problem !== undefined) {
      options.log(`trusted publisher key ${file} is ignored: it ${problem}`);
      continue;
    }
    try {
      keys.push(parsePublisherKey(readFileSync(file, 'utf8'), file));
    } catch (error) {
      options.log(`trusted publisher key ${file} is ignored: ${(error as Error).message}`);
    }
  }
  return keys;
}

/** Adds `key` for `publisher` (root-owned, 0644); returns the file written. Idempotent. */
export function addTrustedKey(paths: AgentPaths, publisher: string, key: KeyObject): string {
  assertPublisherName(publisher);
  const dir = join(paths.trustedPublishersDir, publisher);
  for (const folder of [paths.trustedPublishersDir, dir]) {
    mkdirSync(folder, { recursive: true, mode: 0o755 });
    chmodSync(folder, 0o755);
  }
  const file = join(dir, publisherKeyFileName(key));
  replaceFileAtomically(file, publisherKeyPem(key), { mode: 0o644, ownerUid: 0, ownerGid: 0 });
  return file;
}

function unsafe(stats: Stats, ownerUid: number): string | undefined {
  if (stats.uid !== ownerUid) return `is owned by uid ${stats.uid}, not uid ${ownerUid}`;
  if ((stats.mode & 0o022) !== 0) {
    return `is writable by group or others (mode ${(stats.mode & 0o777).toString(8)})`;
  }
  return undefined;
}
