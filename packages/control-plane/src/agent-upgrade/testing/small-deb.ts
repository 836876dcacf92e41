// Small but real Debian packages for tests: dpkg-deb builds them from a control file and one
// file, so the repository's checks meet what dpkg itself makes.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function smallDeb(options: {
  name?: string;
  version: string;
  architecture?: string;
  /** Changes the bytes without changing the control fields. */
  content?: string;
}): Buffer {
  const work = mkdtempSync(join(tmpdir(), 'tether-small-deb-'));
  try {
    const tree = join(work, 'tree');
    mkdirSync(join(tree, 'DEBIAN'), { recursive: true });
    mkdirSync(join(tree, 'usr/share/doc/test'), { recursive: true });
    writeFileSync(
      join(tree, 'DEBIAN/control'),
      [
        `Package: ${options.name ?? 'azcmagent'}`,
        `Version: ${options.version}`,
        `Architecture: ${options.architecture ?? 'amd64'}`,
        'Maintainer: Tether tests <tests@example.invalid>',
        'Description: a package for tests',
        '',
      ].join('\n'),
    );
    writeFileSync(join(tree, 'usr/share/doc/test/content'), options.content ?? options.version);
    const out = join(work, 'out.deb');
    execFileSync('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', tree, out], {
      stdio: 'ignore',
    });
    return readFileSync(out);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
