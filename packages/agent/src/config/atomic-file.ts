// Crash-safe file replacement: readers see the old bytes or the new ones, never a mix, and a
// power cut after the call returns cannot lose the change.
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fchmodSync,
  fchownSync,
  fsyncSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';

export interface ReplaceOptions {
  /** Permission bits applied regardless of the umask. */
  readonly mode: number;
  /** Owner to give the file when running as root. */
  readonly ownerUid: number;
  readonly ownerGid: number;
}

/** Writes a temporary file beside `path`, fsyncs it, renames it over `path`, fsyncs the folder. */
export function replaceFileAtomically(path: string, data: string, options: ReplaceOptions): void {
  const temporary = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const fd = openSync(temporary, 'wx', options.mode);
  try {
    try {
      writeAll(fd, Buffer.from(data, 'utf8'));
      fchmodSync(fd, options.mode);
      if (process.geteuid?.() === 0) fchownSync(fd, options.ownerUid, options.ownerGid);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
  syncDirectory(dirname(path));
}

function writeAll(fd: number, bytes: Buffer): void {
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(fd, bytes, offset);
}

function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
