// Turns a staged file tree and the files under debian/<package>/ into a .deb with dpkg-deb:
// control fields filled in, maintainer scripts, conffiles, copyright, changelog and md5sums.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';

export interface DebSpec {
  name: string;
  version: string;
  /** The package's own folder of debian files (control, postinst, …). */
  debianDir: string;
  /** Files shared by both packages (copyright). */
  commonDir: string;
  /** Staged file system tree; DEBIAN/ is written into it. */
  stage: string;
  /** Replaces @KEY@ in control, copyright and the maintainer scripts. */
  substitutions: Record<string, string>;
  /** RFC 2822 date for the changelog entry (the commit's, so builds are reproducible). */
  date: string;
  outDir: string;
  /** xz for the smallest package; gzip builds in a fraction of the time. */
  compression: Compression;
}

export type Compression = 'xz' | 'gzip';

const MAINTAINER_SCRIPTS = ['postinst', 'prerm', 'postrm', 'preinst'];

export function substitute(text: string, values: Record<string, string>): string {
  return text.replace(/@([A-Z_]+)@/g, (whole, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`no value for ${whole}`);
    return value;
  });
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

/** Installed size in KiB, as dpkg computes it (one block per file, rounded up). */
function installedSizeKiB(stage: string): number {
  return filesUnder(stage).reduce((sum, file) => sum + Math.ceil(statSync(file).size / 1024), 0);
}

export function buildDeb(spec: DebSpec): string {
  const docDir = join(spec.stage, 'usr/share/doc', spec.name);
  mkdirSync(docDir, { recursive: true });
  const values = { ...spec.substitutions, VERSION: spec.version };
  writeFileSync(
    join(docDir, 'copyright'),
    substitute(readFileSync(join(spec.commonDir, 'copyright'), 'utf8'), values),
  );
  const changelog = [
    `${spec.name} (${spec.version}) unstable; urgency=medium`,
    '',
    '  * Built from the Tether source tree.',
    '',
    ` -- Tether maintainers <tether-maintainers@tether.invalid>  ${spec.date}`,
    '',
  ].join('\n');
  writeFileSync(join(docDir, 'changelog.gz'), gzipSync(changelog, { level: 9 }));
  const overrides = join(spec.debianDir, 'lintian-overrides');
  if (existsSync(overrides)) {
    const target = join(spec.stage, 'usr/share/lintian/overrides');
    mkdirSync(target, { recursive: true });
    copyFileSync(overrides, join(target, spec.name));
  }

  const control = join(spec.stage, 'DEBIAN');
  mkdirSync(control, { recursive: true });
  const md5sums = filesUnder(spec.stage)
    .filter((file) => !file.startsWith(control))
    .sort()
    .map((file) => {
      const digest = createHash('md5').update(readFileSync(file)).digest('hex');
      return `${digest}  ${relative(spec.stage, file)}\n`;
    })
    .join('');
  writeFileSync(join(control, 'md5sums'), md5sums);
  const size = String(installedSizeKiB(spec.stage));
  writeFileSync(
    join(control, 'control'),
    substitute(readFileSync(join(spec.debianDir, 'control'), 'utf8'), {
      ...values,
      INSTALLED_SIZE: size,
    }),
  );
  for (const script of MAINTAINER_SCRIPTS) {
    const source = join(spec.debianDir, script);
    if (!existsSync(source)) continue;
    writeFileSync(join(control, script), substitute(readFileSync(source, 'utf8'), values));
    chmodSync(join(control, script), 0o755);
  }
  const conffiles = join(spec.debianDir, 'conffiles');
  if (existsSync(conffiles)) copyFileSync(conffiles, join(control, 'conffiles'));
  for (const file of ['md5sums', 'control', 'conffiles']) {
    if (existsSync(join(control, file))) chmodSync(join(control, file), 0o644);
  }

  mkdirSync(spec.outDir, { recursive: true });
  const deb = join(spec.outDir, `${spec.name}_${spec.version}_amd64.deb`);
  execFileSync(
    'dpkg-deb',
    ['--root-owner-group', `-Z${spec.compression}`, '--build', spec.stage, deb],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  return deb;
}
