// The tether package: the control plane's bundles, the libraries they load at run time and its
// own Node.js runtime under /usr/lib/tether, the web portal's files, `tether` on the PATH,
// tether.service and the settings file it reads.
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PackageInputs } from './agent-package.js';
import { buildDeb } from './deb-builder.js';
import { normalizeModes, putFile, putProgram, putRuntime, putText } from './stage-tree.js';
import { copyServerModules } from './server-modules.js';

export const TETHER_PROGRAM_DIR = '/usr/lib/tether';

/** What scripts/bundle.mjs leaves outside the server bundle. */
const SERVER_LIBRARIES = ['better-sqlite3', 'pg', 'pino', 'fastify'];

export function buildTetherPackage(inputs: PackageInputs & { cacheDir: string }): string {
  const { workspace, runtime, stage } = inputs;
  const debian = join(workspace, 'packages/packaging/debian/tether');
  const program = TETHER_PROGRAM_DIR.slice(1);
  const values = { PROGRAM_DIR: TETHER_PROGRAM_DIR };

  putRuntime(stage, `${program}/node`, runtime);
  putProgram(
    stage,
    `${program}/bin/tether.cjs`,
    join(workspace, 'packages/control-plane/bin/tether.cjs'),
  );
  cpSync(
    join(workspace, 'packages/control-plane/dist/bundle'),
    join(stage, program, 'dist/bundle'),
    {
      recursive: true,
      // The build machine's code cache is for its own Node.js; the packaged one writes its own.
      filter: (src) => !src.endsWith('.cache'),
    },
  );
  copyServerModules({
    workspace,
    roots: SERVER_LIBRARIES,
    targetDir: join(stage, program),
    runtime,
    cacheDir: inputs.cacheDir,
  });
  execFileSync(
    join(stage, program, 'node/bin/node'),
    [join(stage, program, 'bin/tether.cjs'), 'machine', 'list', '--help'],
    {
      env: { ...process.env, TETHER_WRITE_CODE_CACHE: '1' },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  putText(
    stage,
    'usr/bin/tether',
    `#!/bin/sh\nexec ${TETHER_PROGRAM_DIR}/node/bin/node ${TETHER_PROGRAM_DIR}/bin/tether.cjs "$@"\n`,
    0o755,
  );
  // The web portal's static files, served with TETHER_PORTAL_LISTEN set.
  cpSync(join(workspace, 'packages/portal/dist/site'), join(stage, program, 'portal'), {
    recursive: true,
  });
  putFile(stage, `${program}/tether-service`, join(debian, 'tether-service'), 0o755);
  putText(
    stage,
    'lib/systemd/system/tether.service',
    readFileSync(join(debian, 'units/tether.service'), 'utf8'),
  );
  normalizeModes(stage, [`${program}/node_modules`]);
  // It may hold the database password: readable by root only (systemd reads it before it
  // switches to the tether account).
  putFile(stage, 'etc/tether/tether.env', join(debian, 'tether.env'), 0o600);
  return buildDeb({
    name: 'tether',
    version: inputs.version,
    debianDir: debian,
    commonDir: join(workspace, 'packages/packaging/debian'),
    stage,
    substitutions: values,
    date: inputs.date,
    outDir: inputs.outDir,
    compression: inputs.compression,
  });
}
