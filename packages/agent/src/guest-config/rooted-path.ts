// Resolves a server path under the agent's root folder as the kernel would inside a chroot:
// `..` and every symbolic link along the way, absolute link targets taken from the root. Rules
// read and write only what this returns, and the agent-folder guard judges the same answer.
import { lstatSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { agentFolderOf, AGENT_FOLDERS } from '@tether/protocol';

const MAX_LINKS = 40;

export interface RootedPath {
  /** The path as the server sees it (`/etc/ssh/sshd_config`), links resolved. */
  readonly logical: string;
  /** Where to find it on this file system: `root` joined with `logical`. */
  readonly host: string;
}

export function resolveUnderRoot(root: string, path: string): RootedPath {
  const pending = path.split('/').filter((p) => p !== '' && p !== '.');
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift() ?? '';
    if (part === '..') {
      resolved.pop();
      continue;
    }
    if (part === '.') continue;
    const candidate = join(root, ...resolved, part);
    const stats = lstatSync(candidate, { throwIfNoEntry: false });
    if (stats?.isSymbolicLink() !== true) {
      resolved.push(part);
      continue;
    }
    if (++links > MAX_LINKS) throw new Error(`${path} has more than ${MAX_LINKS} links in a row`);
    const target = readlinkSync(candidate);
    if (target.startsWith('/')) resolved.length = 0;
    pending.unshift(...target.split('/').filter((p) => p !== ''));
  }
  const logical = `/${resolved.join('/')}`;
  return { logical, host: join(root, logical) };
}

/**
 * The agent folder `path` reaches under `root` once links are followed — through a link in the
 * path or to an agent folder that is itself a link elsewhere — or undefined.
 */
export function agentFolderReached(root: string, path: string): string | undefined {
  const { logical } = resolveUnderRoot(root, path);
  const direct = agentFolderOf(logical);
  if (direct !== undefined) return direct;
  return AGENT_FOLDERS.find((folder) => {
    const real = resolveUnderRoot(root, folder).logical;
    return real !== folder && (logical === real || logical.startsWith(`${real}/`));
  });
}
