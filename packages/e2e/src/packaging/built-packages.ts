// The Debian packages under test: the ones `npm run package` left in dist/packages (CI builds them
// once per run), built here only when they are missing; and a second version for upgrades.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const WORKSPACE = fileURLToPath(new URL('../../../../', import.meta.url));
export const PACKAGES_DIR = join(WORKSPACE, 'dist/packages');

/** Why a test that installs the agent package cannot run here, or false when it can. */
export const INSTALL_SKIP: string | false =
  process.geteuid?.() !== 0
    ? 'installing a package needs root'
    : spawnSync('dpkg-query', ['-W', '-f=${Status}', 'azcmagent'], {
          encoding: 'utf8',
        }).stdout.includes('installed')
      ? 'azcmagent is installed on this machine; the test leaves a real installation alone'
      : false;

export const fileSha256 = (path: string): string =>
  createHash('sha256').update(readFileSync(path)).digest('hex');

export function packageVersion(): string {
  const manifest = join(WORKSPACE, 'packages/agent/package.json');
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}

/** `dist/packages/<name>_<version>_amd64.deb`, built first if it is not there. */
export function builtPackage(name: 'azcmagent' | 'tether'): string {
  const deb = join(PACKAGES_DIR, `${name}_${packageVersion()}_amd64.deb`);
  if (!existsSync(deb)) {
    execFileSync(
      process.execPath,
      [join(WORKSPACE, 'packages/packaging/dist/main.js'), '--only', name],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
  }
  return deb;
}

/**
 * The same package as a later version, with `marker` added to its programs so a test can tell
 * the upgrade replaced them: repacked rather than rebuilt, which takes seconds, not minutes.
 */
export function laterVersion(deb: string, version: string, marker: string): string {
  const work = mkdtempSync(join(tmpdir(), 'tether-deb-upgrade-'));
  try {
    const tree = join(work, 'tree');
    execFileSync('dpkg-deb', ['--raw-extract', deb, tree]);
    const control = join(tree, 'DEBIAN/control');
    writeFileSync(
      control,
      readFileSync(control, 'utf8').replace(/^Version: .*$/m, `Version: ${version}`),
    );
    writeFileSync(join(tree, marker), `${version}\n`);
    const out = join(
      tmpdir(),
      `${deb.replace(/^.*\//, '').replace(/_[^_]+_amd64\.deb$/, '')}_${version}_amd64.deb`,
    );
    execFileSync('dpkg-deb', ['--root-owner-group', '-Zgzip', '-z1', '--build', tree, out], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    return out;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
