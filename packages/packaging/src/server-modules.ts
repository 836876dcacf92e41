// The libraries tether's bundle leaves outside (native code, files found at run time): copied with
// everything they depend on from the workspace's node_modules, and better-sqlite3 compiled for the
// packaged runtime, whose module ABI is not the build machine's.
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import type { NodeRuntime } from './node-runtime.js';

interface Manifest {
  version: string;
  bin?: string | Record<string, string>;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

/** Needed only to install better-sqlite3 from source or a download, never at run time. */
const INSTALL_ONLY = new Set(['prebuild-install']);

/** Folders and files no library loads at run time: tests, benchmarks, docs, tool settings. */
const NOT_RUNTIME_DIR =
  /^(test|tests|__tests__|benchmark|benchmarks|bench|integration|example|examples|docs|doc|coverage|scripts|\..*)$/;
const NOT_RUNTIME_FILE = /^(\..*|.*\.(md|markdown|html|ts|map|yml|yaml|sh))$/;

/** The folder Node would load `name` from when required inside `fromDir`. */
function resolvePackageDir(name: string, fromDir: string, stopAt: string): string | undefined {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === stopAt || dirname(dir) === dir) return undefined;
  }
}

/** Every package folder `roots` need at run time, relative to `workspace`. */
export function dependencyClosure(workspace: string, roots: readonly string[]): string[] {
  const found = new Set<string>();
  const visit = (name: string, fromDir: string, optional: boolean): void => {
    const dir = resolvePackageDir(name, fromDir, workspace);
    if (dir === undefined) {
      if (optional) return;
      throw new Error(`${name} (needed from ${fromDir}) is not installed; run npm ci first.`);
    }
    if (found.has(dir) || INSTALL_ONLY.has(name)) return;
    found.add(dir);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
    for (const dep of Object.keys(manifest.dependencies ?? {})) visit(dep, dir, false);
    for (const dep of Object.keys(manifest.optionalDependencies ?? {})) visit(dep, dir, true);
  };
  for (const name of roots) visit(name, workspace, false);
  return [...found].map((dir) => relative(workspace, dir)).sort();
}

/**
 * Copies the closure into `targetDir` (which gets `node_modules/...` as in the workspace), then
 * compiles better-sqlite3 against the runtime's headers, once per version pair in `cacheDir`.
 */
export function copyServerModules(options: {
  workspace: string;
  roots: readonly string[];
  targetDir: string;
  runtime: NodeRuntime;
  cacheDir: string;
}): void {
  const { workspace, roots, targetDir, runtime, cacheDir } = options;
  for (const rel of dependencyClosure(workspace, roots)) {
    const native = rel.endsWith('better-sqlite3');
    const from = join(workspace, rel);
    const manifest = JSON.parse(readFileSync(join(from, 'package.json'), 'utf8')) as Manifest;
    // A library's command-line programs (pino's, semver's) are not what the server loads.
    const programs = new Set(
      (typeof manifest.bin === 'string' ? [manifest.bin] : Object.values(manifest.bin ?? {})).map(
        (path) => join(from, path),
      ),
    );
    cpSync(from, join(targetDir, rel), {
      recursive: true,
      filter: (src) => {
        if (src === from) return true;
        const inside = relative(from, src);
        // Nested node_modules are copied as packages of their own, when something needs them.
        if (inside === 'node_modules' || inside.startsWith('node_modules/')) return false;
        const name = basename(src);
        if (programs.has(src)) return false;
        if (native && /^(deps|src|build)(\/|$)/.test(inside)) return false;
        return statSync(src).isDirectory()
          ? !NOT_RUNTIME_DIR.test(name)
          : !NOT_RUNTIME_FILE.test(name);
      },
    });
    if (native) {
      const addon = betterSqliteAddon(join(workspace, rel), runtime, cacheDir);
      mkdirSync(join(targetDir, rel, 'build/Release'), { recursive: true });
      const target = join(targetDir, rel, 'build/Release/better_sqlite3.node');
      cpSync(addon, target);
      execFileSync('strip', ['--strip-unneeded', target]);
    }
  }
}

function betterSqliteAddon(source: string, runtime: NodeRuntime, cacheDir: string): string {
  const { version } = JSON.parse(readFileSync(join(source, 'package.json'), 'utf8')) as Manifest;
  const work = join(cacheDir, `better-sqlite3-${version}-node-${runtime.version}`);
  const addon = join(work, 'build/Release/better_sqlite3.node');
  if (existsSync(addon)) return addon;
  // Compiled in a folder of this build's own and renamed into place whole, so builds running
  // at once (or one killed halfway) never see or leave a half-compiled cache entry.
  const partial = mkdtempSync(`${work}.partial-`);
  try {
    cpSync(source, partial, { recursive: true, filter: (src) => !src.endsWith('/build') });
    // npm's own node-gyp: the one tool that knows how to compile a Node.js addon.
    const globalModules = execFileSync('npm', ['root', '-g'], { encoding: 'utf8' }).trim();
    const nodeGyp = join(globalModules, 'npm/node_modules/node-gyp/bin/node-gyp.js');
    execFileSync(
      process.execPath,
      [nodeGyp, 'rebuild', '--release', `--nodedir=${runtime.dir}`, '-j', '2'],
      { cwd: partial, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    try {
      renameSync(partial, work);
    } catch {
      if (existsSync(addon)) return addon; // another build finished first
      // An unfinished entry left by an older build, which compiled in place.
      rmSync(work, { recursive: true, force: true });
      renameSync(partial, work);
    }
    return addon;
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
}
