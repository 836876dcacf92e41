// The engine's only writing edge: changes an existing file's owner, group and mode, or replaces a
// config file atomically. Immediately before each write the path is resolved again under the root
// and refused when it reaches the agent's folders, has several hard links, or moved meanwhile.
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  fsyncSync,
  lstatSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import type { FileChange } from './file-remediation.js';
import { agentFolderReached, resolveUnderRoot } from './rooted-path.js';

const MAX_FILE_BYTES = 16 * 1024 * 1024;

/** Sets what `change` names on the existing file or folder at the server path `path`. */
export function changeFileAttributes(root: string, path: string, change: FileChange): void {
  const target = openGuarded(root, path, false);
  try {
    // Owner first: chown clears set-id bits, which the mode then sets as planned.
    if (change.uid !== undefined || change.gid !== undefined) {
      fchownSync(target.fd, change.uid ?? target.stats.uid, change.gid ?? target.stats.gid);
    }
    if (change.mode !== undefined) fchmodSync(target.fd, change.mode);
  } finally {
    closeSync(target.fd);
  }
}

/**
 * Replaces the regular file at `path` with `edit(its text)`: a temporary file beside it with the
 * same owner and mode, flushed to disk, renamed over it, so a reader sees the old or new file.
 */
export function rewriteFile(root: string, path: string, edit: (text: string) => string): void {
  const target = openGuarded(root, path, true);
  let text: string;
  try {
    if (target.stats.size > MAX_FILE_BYTES) throw new Error(`${path} is too large to edit`);
    text = edit(readFileSync(target.fd, 'utf8'));
  } finally {
    closeSync(target.fd);
  }
  const dir = dirname(target.host);
  const temp = join(dir, `.${basename(target.host)}.tether-${randomBytes(6).toString('hex')}`);
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  const fd = openSync(temp, flags, 0o600);
  try {
    try {
      writeSync(fd, text);
      fchownSync(fd, target.stats.uid, target.stats.gid);
      fchmodSync(fd, target.stats.mode & 0o7777);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    // Checked again just before the rename: the path must still name the file that was read.
    const again = openGuarded(root, path, true);
    closeSync(again.fd);
    if (again.stats.ino !== target.stats.ino || again.stats.dev !== target.stats.dev) {
      throw new Error(`${path} was replaced while it was being remediated; it was left as it is`);
    }
    renameSync(temp, target.host);
  } catch (error) {
    unlinkSync(temp);
    throw error;
  }
  const dirFd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

interface GuardedFile {
  readonly fd: number;
  readonly host: string;
  readonly stats: Stats;
}

function openGuarded(root: string, path: string, regularOnly: boolean): GuardedFile {
  const folder = agentFolderReached(root, path);
  if (folder !== undefined) {
    throw new Error(`${path} leads into the agent's folder ${folder}, which is never changed`);
  }
  const { host } = resolveUnderRoot(root, path);
  // The resolved path must hold no link now: one planted since resolving is refused, not followed.
  const parts = relative(root, host)
    .split(sep)
    .filter((p) => p !== '');
  for (let i = 1; i <= parts.length; i++) {
    const stats = lstatSync(join(root, ...parts.slice(0, i)), { throwIfNoEntry: false });
    if (stats?.isSymbolicLink() === true) {
      throw new Error(`${path} changed to pass through a symbolic link; it was left as it is`);
    }
  }
  const fd = openSync(host, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  const stats = fstatSync(fd);
  const problem =
    regularOnly && !stats.isFile()
      ? 'is not a regular file'
      : !stats.isFile() && !stats.isDirectory()
        ? 'is not a regular file or folder'
        : stats.isFile() && stats.nlink > 1
          ? `has ${stats.nlink} hard links, and another name for it could be the agent's`
          : undefined;
  if (problem !== undefined) {
    closeSync(fd);
    throw new Error(`${path} ${problem}; it was left as it is`);
  }
  return { fd, host, stats };
}
