// What a published agent package says about itself: its control fields, read by dpkg-deb from
// the bytes as uploaded, so that only a well-formed azcmagent .deb of a Debian version is kept.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isDebianVersion } from '@tether/protocol/agent-upgrade';
import { ArmError } from '../api/arm-error.js';

const run = promisify(execFile);
export const AGENT_PACKAGE_NAME = 'azcmagent';
/** The architecture the agent packages are built for. */
export const AGENT_PACKAGE_ARCHITECTURE = 'amd64';

export interface DebControl {
  package: string;
  version: string;
  architecture: string;
}

const invalid = (message: string): ArmError =>
  new ArmError('InvalidRequestContent', message, { target: 'package' });

/** The control fields of `deb`; refuses anything but an azcmagent amd64 package. */
export async function inspectAgentDeb(deb: Buffer): Promise<DebControl> {
  // "!<arch>\n" then the debian-binary member: every .deb starts so.
  if (!deb.subarray(0, 21).equals(Buffer.from('!<arch>\ndebian-binary', 'latin1'))) {
    throw invalid(
      'The uploaded package is not a Debian package (.deb): publish the azcmagent_<version>_amd64.deb that npm run package builds.',
    );
  }
  const work = await mkdtemp(join(tmpdir(), 'tether-agent-package-'));
  try {
    const file = join(work, 'package.deb');
    await writeFile(file, deb, { mode: 0o600 });
    let stdout: string;
    try {
      ({ stdout } = await run('dpkg-deb', ['--field', file, 'Package', 'Version', 'Architecture'], {
        timeout: 60_000,
        maxBuffer: 64 * 1024,
      }));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new ArmError(
          'InternalServerError',
          'This control plane cannot check agent packages: dpkg-deb is not installed on its host.',
          { cause: error },
        );
      }
      const stderr = (error as { stderr?: unknown }).stderr;
      const detail = (typeof stderr === 'string' ? stderr : '').trim().split('\n')[0] ?? '';
      throw invalid(
        `The uploaded package is not a readable Debian package: ${detail === '' ? 'dpkg-deb refused it' : detail}.`,
      );
    }
    const fields = new Map<string, string>();
    for (const line of stdout.split('\n')) {
      const match = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (match?.[1] !== undefined) fields.set(match[1].toLowerCase(), (match[2] ?? '').trim());
    }
    const control: DebControl = {
      package: fields.get('package') ?? '',
      version: fields.get('version') ?? '',
      architecture: fields.get('architecture') ?? '',
    };
    if (control.package !== AGENT_PACKAGE_NAME) {
      throw invalid(
        `The package is '${control.package.slice(0, 80)}', not ${AGENT_PACKAGE_NAME}: only the agent's own package can be rolled out to machines.`,
      );
    }
    if (!isDebianVersion(control.version)) {
      throw invalid(
        `The package's version '${control.version.slice(0, 80)}' is not a Debian version.`,
      );
    }
    if (control.architecture !== AGENT_PACKAGE_ARCHITECTURE) {
      throw invalid(
        `The package is built for '${control.architecture.slice(0, 40)}'; the agent runs on ${AGENT_PACKAGE_ARCHITECTURE}.`,
      );
    }
    return control;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
