// Builds the first-party extension packages: each handler bundled by esbuild into one
// self-contained handler.cjs (node built-ins only) beside its HandlerManifest.json, in
// dist/packages/<Publisher.Type>/, plus dist/packages/index.json listing them for publishing;
// and the built-in guest configurations, validated, as dist/guest-configurations-packages/<name>/
// configuration.json (a folder to zip and sign) with its index.json.
// Run after `tsc -b` (the root build does); the list lives in src/handler-packages.ts.
import { build } from 'esbuild';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const { HANDLER_FILE, HANDLER_PACKAGES, handlerManifest, packageDirName } = await import(
  join(dist, 'handler-packages.js')
);

const out = join(dist, 'packages');
rmSync(out, { recursive: true, force: true });
const index = [];
for (const pkg of HANDLER_PACKAGES) {
  const dir = join(out, packageDirName(pkg));
  mkdirSync(dir, { recursive: true });
  await build({
    entryPoints: [join(dist, pkg.entry)],
    outfile: join(dir, HANDLER_FILE),
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    packages: 'bundle',
    logLevel: 'warning',
  });
  writeFileSync(
    join(dir, 'HandlerManifest.json'),
    `${JSON.stringify(handlerManifest(pkg), null, 2)}\n`,
  );
  index.push({
    publisher: pkg.publisher,
    type: pkg.type,
    version: pkg.version,
    dir: packageDirName(pkg),
  });
}
writeFileSync(join(out, 'index.json'), `${JSON.stringify(index, null, 2)}\n`);

const { BUILT_IN_CONFIGURATIONS } = await import(
  join(dist, 'guest-configurations/built-in-configurations.js')
);
const { CONFIGURATION_FILE, parseGuestConfiguration } = await import('@tether/protocol');
const configurationsOut = join(dist, 'guest-configurations-packages');
rmSync(configurationsOut, { recursive: true, force: true });
const configurations = [];
for (const configuration of BUILT_IN_CONFIGURATIONS) {
  // The same validation an agent applies, so a broken built-in fails the build, not a server.
  const valid = parseGuestConfiguration(JSON.parse(JSON.stringify(configuration)));
  const dir = join(configurationsOut, valid.name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, CONFIGURATION_FILE), `${JSON.stringify(valid, null, 2)}\n`);
  configurations.push({ name: valid.name, version: valid.version, dir: valid.name });
}
writeFileSync(
  join(configurationsOut, 'index.json'),
  `${JSON.stringify(configurations, null, 2)}\n`,
);
