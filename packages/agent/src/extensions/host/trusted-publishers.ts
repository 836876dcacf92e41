// The trust store: `trusted-publishers/<Publisher>/*.pem`, and the same code for any other folder
// of trusted keys (agent packages keep theirs in `trusted-agent-package-keys/`). Fail closed — a
// folder or file that someone other than the trusted owner owns or can write, a link, or an
// unreadable key is ignored and logged, so nobody but root can make this server trust a key.
import type { KeyObject } from 'node:crypto';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  type Stats,
} from 'node:fs';
import { join } from 'node:path';
import { publisherKeyId } from '@tether/protocol/extension-package';
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
  return readKeysIn(publisherFolders(paths, publisher), options);
}

/** The trust store and the publisher's folder in it, outermost first. */
export function publisherFolders(paths: AgentPaths, publisher: string): string[] {
  return [paths.trustedPublishersDir, join(paths.trustedPublishersDir, publisher)];
}

/**
 * The keys in the last of `folders`, each folder checked first from the outermost; empty when
 * one is missing or unsafe.
 */
export function readKeysIn(folders: readonly string[], options: TrustStoreOptions): KeyObject[] {
  const dir = folders.at(-1);
  if (dir === undefined) return [];
  for (const folder of folders) {
    const stats = lstatSync(folder, { throwIfNoEntry: false });
    if (stats === undefined) return [];
    const problem = stats.isDirectory() ? unsafe(stats, options.ownerUid) : 'is not a folder';
    if (problem !== undefined) {
      options.log(`trusted keys in ${folder} are ignored: it ${problem}`);
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
      options.log(`trusted key ${file} is ignored: it ${problem}`);
      continue;
    }
    try {
      keys.push(parsePublisherKey(readFileSync(file, 'utf8'), file));
    } catch (error) {
      options.log(`trusted key ${file} is ignored: ${(error as Error).message}`);
    }
  }
  return keys;
}

/** Adds `key` for `publisher` (root-owned, 0644); returns the file written. Idempotent. */
export function addTrustedKey(paths: AgentPaths, publisher: string, key: KeyObject): string {
  assertPublisherName(publisher);
  return addKeyIn(publisherFolders(paths, publisher), key);
}

/** Adds `key` to the last of `folders` (each made root-owned 0755; the key 0644). Idempotent. */
export function addKeyIn(folders: readonly string[], key: KeyObject): string {
  for (const folder of folders) {
    mkdirSync(folder, { recursive: true, mode: 0o755 });
    chmodSync(folder, 0o755);
  }
  const file = join(folders.at(-1) ?? '', publisherKeyFileName(key));
  replaceFileAtomically(file, publisherKeyPem(key), { mode: 0o644, ownerUid: 0, ownerGid: 0 });
  return file;
}

/**
 * Removes every key file in `folder` that holds the key `keyId`, whatever the file is named (root
 * may have put a key there by hand, or the same key twice), so that no copy stays trusted; false
 * when none was there.
 */
export function removeKeyIn(folder: string, keyId: string): boolean {
  if (!/^[A-Za-z0-9_-]{43}$/.test(keyId)) return false;
  let removed = false;
  for (const entry of readdirSync(folder)) {
    if (!entry.endsWith('.pem')) continue;
    const file = join(folder, entry);
    const stats = lstatSync(file, { throwIfNoEntry: false });
    if (stats?.isFile() !== true || stats.size > MAX_KEY_BYTES) continue;
    let id: string;
    try {
      id = publisherKeyId(parsePublisherKey(readFileSync(file, 'utf8'), file));
    } catch {
      continue;
    }
    if (id !== keyId) continue;
    rmSync(file);
    removed = true;
  }
  return removed;
}

function unsafe(stats: Stats, ownerUid: number): string | undefined {
  if (stats.uid !== ownerUid) return `is owned by uid ${stats.uid}, not uid ${ownerUid}`;
  if ((stats.mode & 0o022) !== 0) {
    return `is writable by group or others (mode ${(stats.mode & 0o777).toString(8)})`;
  }
  return undefined;
}
