// Unpacks a (verified) package zip into a new folder. Every entry is checked before anything is
// written: no absolute paths, no `..`, no links or devices, nothing outside the folder, a cap on
// entries and total size. Files get 0755 when the zip marks them executable, 0644 otherwise.
import { chmodSync, createWriteStream, mkdirSync } from 'node:fs';
import { dirname, posix, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fromBufferPromise, type Entry } from 'yauzl';
import { AgentError } from '../../errors.js';

export interface ExtractLimits {
  readonly maxTotalBytes: number;
  readonly maxEntries: number;
}

export const DEFAULT_EXTRACT_LIMITS: ExtractLimits = {
  maxTotalBytes: 256 * 1024 * 1024,
  maxEntries: 10_000,
};

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const MADE_BY_UNIX = 3;

export interface PlannedEntry {
  readonly entry: Entry;
  readonly relative: string;
  readonly directory: boolean;
  readonly executable: boolean;
}

/** Checks every entry; throws ERR_EXTENSION_PACKAGE_INVALID naming the first bad one. */
export async function planZip(
  zip: Buffer,
  source: string,
  limits: ExtractLimits = DEFAULT_EXTRACT_LIMITS,
): Promise<PlannedEntry[]> {
  const invalid = (why: string, cause?: unknown): AgentError =>
    new AgentError('ERR_EXTENSION_PACKAGE_INVALID', `The package ${source} ${why}.`, {
      target: source,
      ...(cause === undefined ? {} : { cause }),
    });
  const planned: PlannedEntry[] = [];
  let total = 0;
  try {
    const zipfile = await fromBufferPromise(zip, {
      strictFileNames: true,
      validateEntrySizes: true,
    });
    try {
      for await (const entry of zipfile.eachEntry()) {
        if (planned.length >= limits.maxEntries) {
          throw invalid(`has more than ${limits.maxEntries} entries`);
        }
        planned.push(planEntry(entry, invalid));
        total += entry.uncompressedSize;
        if (total > limits.maxTotalBytes) {
          throw invalid(`unpacks to more than ${limits.maxTotalBytes} bytes`);
        }
      }
    } finally {
      zipfile.close();
    }
  } catch (error) {
    if (error instanceof AgentError) throw error;
    throw invalid(`is not a zip the agent accepts (${(error as Error).message})`, error);
  }
  return planned;
}

function planEntry(entry: Entry, invalid: (why: string) => AgentError): PlannedEntry {
  const name = entry.fileName;
  const directory = name.endsWith('/');
  const relative = directory ? name.slice(0, -1) : name;
  const parts = relative.split('/');
  if (
    relative === '' ||
    name.startsWith('/') ||
    name.includes('\\') ||
    /^[A-Za-z]:/.test(name) ||
    parts.some((part) => part === '..' || part === '.' || part === '') ||
    posix.normalize(relative) !== relative
  ) {
    throw invalid(`has an entry with an unsafe path ("${name}")`);
  }
  if (entry.isEncrypted()) throw invalid(`has an encrypted entry ("${name}")`);
  const unixMode =
    entry.versionMadeBy >> 8 === MADE_BY_UNIX ? entry.externalFileAttributes >>> 16 : 0;
  const type = unixMode & S_IFMT;
  if (type !== 0 && type !== (directory ? S_IFDIR : S_IFREG)) {
    throw invalid(`has an entry that is a link or special file ("${name}")`);
  }
  return { entry, relative, directory, executable: (unixMode & 0o111) !== 0 };
}

/** Creates `target` (which must not exist) and unpacks the planned entries into it. */
export async function extractZip(
  zip: Buffer,
  target: string,
  planned: readonly PlannedEntry[],
): Promise<void> {
  mkdirSync(target, { mode: 0o755 });
  const root = resolve(target);
  const zipfile = await fromBufferPromise(zip, { strictFileNames: true, validateEntrySizes: true });
  try {
    const byName = new Map(planned.map((item) => [item.entry.fileName, item]));
    for await (const entry of zipfile.eachEntry()) {
      const item = byName.get(entry.fileName);
      if (item === undefined) throw new Error(`entry ${entry.fileName} changed between reads`);
      const path = resolve(root, ...item.relative.split('/'));
      if (!path.startsWith(root + sep)) throw new Error(`entry ${entry.fileName} escapes ${root}`);
      if (item.directory) {
        mkdirSync(path, { recursive: true, mode: 0o755 });
        continue;
      }
      mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
      const stream = await zipfile.openReadStreamPromise(entry);
      // 'wx': a duplicate entry name is an error, never an overwrite through a link.
      const mode = item.executable ? 0o755 : 0o644;
      await pipeline(stream, createWriteStream(path, { flags: 'wx', mode }));
      chmodSync(path, mode); // whatever the umask
    }
  } finally {
    zipfile.close();
  }
}
