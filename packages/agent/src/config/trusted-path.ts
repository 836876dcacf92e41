// Whether a file root relies on can be changed by anyone but root, checked the way sshd's
// StrictModes does: the file and every folder above it up to `/`. Fail closed: what cannot be
// examined is untrusted.
import { lstatSync, realpathSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';

const S_ISVTX = 0o1000;

/**
 * undefined when only root (or `trustedUid`, the user running a test root) can replace `path`;
 * otherwise what makes it replaceable, naming the file or folder. A missing file is reported
 * by the caller, which knows whether absence is allowed.
 */
export function untrustedPathProblem(path: string, trustedUid: number): string | undefined {
  const trusted = (uid: number): boolean => uid === 0 || uid === trustedUid;
  const file = resolve(path);
  let stats: Stats | undefined;
  try {
    stats = lstatSync(file);
  } catch (error) {
    return `${file} cannot be examined (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
  }
  if (stats.isSymbolicLink()) return `${file} is a symbolic link, which the agent does not follow`;
  if (!trusted(stats.uid)) return `${file} is owned by uid ${stats.uid}, not root`;
  if ((stats.mode & 0o022) !== 0) return `${file} is writable by users other than its owner`;
  const literal = dirname(file);
  const problem = folderChainProblem(literal, stats, trusted);
  if (problem !== undefined) return problem;
  // A symbolic link among the folders (e.g. /var/run) passed above only as a name its trusted
  // folder holds; where it leads is checked too.
  let real: string;
  try {
    real = realpathSync(literal);
  } catch (error) {
    return `${literal} cannot be resolved (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
  }
  return real === literal ? undefined : folderChainProblem(real, stats, trusted);
}

function folderChainProblem(
  start: string,
  held: Stats,
  trusted: (uid: number) => boolean,
): string | undefined {
  let child = held;
  for (let dir = start; ; dir = dirname(dir)) {
    let folder: Stats;
    try {
      folder = lstatSync(dir);
    } catch (error) {
      return `${dir} cannot be examined (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
    }
    if (!trusted(folder.uid)) {
      return `${dir} is owned by uid ${folder.uid}, not root, so that user can replace what it holds`;
    }
    // A folder others can write lets them rename what it holds, unless it is sticky (like /tmp)
    // and what it holds is root's: then only its owner may rename or remove it.
    const sticky = (folder.mode & S_ISVTX) !== 0;
    if (
      !folder.isSymbolicLink() &&
      (folder.mode & 0o022) !== 0 &&
      !(sticky && trusted(child.uid))
    ) {
      return `${dir} is writable by users other than its owner, so they can replace what it holds`;
    }
    if (dirname(dir) === dir) return undefined;
    child = folder;
  }
}
