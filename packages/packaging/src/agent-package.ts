// The azcmagent package: the agent's two bundles and its own Node.js runtime under
// /usr/lib/azcmagent, `azcmagent` on the PATH, the himdsd, extd and gcad units, and the
// endpoints the machine's applications read.
import { cpSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildDeb, substitute, type Compression } from './deb-builder.js';
import type { NodeRuntime } from './node-runtime.js';
import { normalizeModes, putFile, putProgram, putRuntime, putText } from './stage-tree.js';

export const AGENT_PROGRAM_DIR = '/usr/lib/azcmagent';

export interface PackageInputs {
  workspace: string;
  version: string;
  runtime: NodeRuntime;
  stage: string;
  outDir: string;
  date: string;
  compression: Compression;
}

export function buildAgentPackage(inputs: PackageInputs): string {
  const { workspace, runtime, stage } = inputs;
  const debian = join(workspace, 'packages/packaging/debian/azcmagent');
  const program = AGENT_PROGRAM_DIR.slice(1);
  const values = { PROGRAM_DIR: AGENT_PROGRAM_DIR };

  putRuntime(stage, `${program}/node`, runtime);
  putProgram(
    stage,
    `${program}/bin/azcmagent.cjs`,
    join(workspace, 'packages/agent/bin/azcmagent.cjs'),
  );
  const bundles = join(workspace, 'packages/agent/dist/bundle');
  cpSync(bundles, join(stage, program, 'dist/bundle'), { recursive: true });
  // The agent reports this as its version (agent/src/version.ts), so a machine shows the
  // package it runs.
  putText(stage, `${program}/package-version`, `${inputs.version}\n`);
  putText(
    stage,
    'usr/bin/azcmagent',
    `#!/bin/sh\nexec ${AGENT_PROGRAM_DIR}/node/bin/node ${AGENT_PROGRAM_DIR}/bin/azcmagent.cjs "$@"\n`,
    0o755,
  );
  for (const unit of readdirSync(join(debian, 'units'))) {
    putText(
      stage,
      `lib/systemd/system/${unit}`,
      substitute(readFileSync(join(debian, 'units', unit), 'utf8'), values),
    );
  }
  putFile(stage, 'etc/profile.d/azcmagent.sh', join(debian, 'azcmagent-profile.sh'));
  putFile(stage, 'lib/systemd/system.conf.d/azcmagent.conf', join(debian, 'azcmagent-system.conf'));
  putFile(
    stage,
    'usr/lib/environment.d/90-azcmagent.conf',
    join(debian, 'azcmagent-environment.conf'),
  );
  normalizeModes(stage);
  return buildDeb({
    name: 'azcmagent',
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
