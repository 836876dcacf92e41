// Staging helpers: copying files into the package tree with the modes Debian expects (folders
// 0755, programs 0755, everything else 0644) unless a file is listed with a mode of its own.
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import type { NodeRuntime } from './node-runtime.js';

export function putFile(stage: string, path: string, source: string, mode = 0o644): void {
  const target = join(stage, path);
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(source, target);
  chmodSync(target, mode);
}

export function putText(stage: string, path: string, text: string, mode = 0o644): void {
  const target = join(stage, path);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, text);
  chmodSync(target, mode);
}

/**
 * A `#!/usr/bin/env node` program, without that line: the wrappers on PATH and the units run it
 * with the packaged runtime, never with whatever `node` the machine has.
 */
export function putProgram(stage: string, path: string, source: string): void {
  putText(stage, path, readFileSync(source, 'utf8').replace(/^#!.*\n/, ''));
}

/** bin/node without its debugging symbols (a fifth of its size), and the license. */
export function putRuntime(stage: string, path: string, runtime: NodeRuntime): void {
  putFile(stage, `${path}/bin/node`, runtime.nodeBinary, 0o755);
  execFileSync('strip', ['--strip-unneeded', join(stage, path, 'bin/node')]);
  putFile(stage, `${path}/LICENSE`, join(runtime.dir, 'LICENSE'));
}

/**
 * Folders 0755; files 0755 when any execute bit is set, else 0644; but every file under a
 * `libraryDirs` folder 0644, since nothing there is run directly.
 */
export function normalizeModes(stage: string, libraryDirs: readonly string[] = []): void {
  const libraries = libraryDirs.map((path) => `${join(stage, path)}/`);
  chmodSync(stage, 0o755);
  for (const entry of readdirSync(stage, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    if (entry.isSymbolicLink()) continue;
    if (entry.isDirectory()) {
      chmodSync(path, 0o755);
    } else {
      const executable =
        (statSync(path).mode & 0o111) !== 0 && !libraries.some((dir) => path.startsWith(dir));
      chmodSync(path, executable ? 0o755 : 0o644);
    }
  }
}
