// `npm run package [-- --version V] [--out DIR] [--only azcmagent|tether] [--compression xz|gzip]`
// builds azcmagent_<version>_amd64.deb and tether_<version>_amd64.deb from the built bundles.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildAgentPackage } from './agent-package.js';
import { nodeRuntime } from './node-runtime.js';
import { buildTetherPackage } from './tether-package.js';

const workspace = fileURLToPath(new URL('../../../', import.meta.url));

function fail(message: string): never {
  process.stderr.write(`ERROR: ${message}\n`);
  process.exit(1);
}

const { values } = parseArgs({
  options: {
    version: { type: 'string' },
    out: { type: 'string', default: join(workspace, 'dist/packages') },
    only: { type: 'string' },
    compression: { type: 'string', default: 'xz' },
  },
});
const packageVersion = (path: string): string =>
  (JSON.parse(readFileSync(join(workspace, path), 'utf8')) as { version: string }).version;
const version = values.version ?? packageVersion('packages/agent/package.json');
if (!/^[0-9][A-Za-z0-9.+~]*$/.test(version)) {
  fail(
    `--version "${version}" is not a Debian version: digits first, then letters, digits, . + ~.`,
  );
}
if (values.only !== undefined && !['azcmagent', 'tether'].includes(values.only)) {
  fail(`--only "${values.only}" is not a package here; expected azcmagent or tether.`);
}
const compression = values.compression;
if (compression !== 'xz' && compression !== 'gzip') {
  fail(
    `--compression "${compression}" is not supported; expected xz (smallest) or gzip (fastest).`,
  );
}
for (const bundle of [
  'packages/agent/dist/bundle/azcmagent.cjs',
  'packages/control-plane/dist/bundle/tether.cjs',
  'packages/portal/dist/site/index.html',
]) {
  if (!existsSync(join(workspace, bundle))) fail(`${bundle} is missing; run npm run build first.`);
}

// What takes minutes and never changes for one runtime version — the runtime's tarball and
// better-sqlite3 compiled for it — is kept outside the checkout, so that `npm ci` and a new
// clone on the same machine reuse it.
const cacheDir =
  process.env['TETHER_PACKAGING_CACHE'] ??
  join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'tether-packaging');
const runtime = nodeRuntime(cacheDir);
const date = execFileSync('git', ['log', '-1', '--format=%aD'], {
  cwd: workspace,
  encoding: 'utf8',
}).trim();
const outDir = resolve(values.out);
const builders = {
  azcmagent: (stage: string) =>
    buildAgentPackage({ workspace, version, runtime, stage, outDir, date, compression }),
  tether: (stage: string) =>
    buildTetherPackage({
      workspace,
      version,
      runtime,
      stage,
      outDir,
      date,
      cacheDir,
      compression,
    }),
};
for (const [name, build] of Object.entries(builders)) {
  if (values.only !== undefined && values.only !== name) continue;
  const stage = mkdtempSync(join(tmpdir(), `tether-package-${name}-`));
  try {
    process.stdout.write(`${build(stage)}\n`);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}
