// The one privileged step of an agent upgrade: dpkg installs a package file the extension service
// has already verified. Under systemd it runs as a unit of its own, so the package restarting
// extd does not stop dpkg halfway; elsewhere it runs in a process group of its own.
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const INSTALL_TIMEOUT_MS = 15 * 60_000;

export interface DebFields {
  readonly package: string;
  readonly version: string;
}

export type InstallResult =
  | { readonly ok: true; readonly underSystemd: boolean }
  | { readonly ok: false; readonly message: string };

/** `Package` and `Version` of a .deb file, as dpkg reads them. */
export async function readDebFields(deb: string): Promise<DebFields> {
  const { stdout } = await run('dpkg-deb', ['--field', deb, 'Package', 'Version'], {
    timeout: 60_000,
  });
  const field = (name: string): string =>
    new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(stdout)?.[1]?.trim() ?? '';
  return { package: field('Package'), version: field('Version') };
}

/**
 * dpkg writes to a file beside the package, never to a pipe of this process: the package's
 * restart of extd ends this process, and dpkg must not die of a broken pipe when it does.
 */
export async function installDeb(deb: string, unitName: string): Promise<InstallResult> {
  const underSystemd = existsSync('/run/systemd/system');
  const logFile = join(dirname(deb), 'dpkg.log');
  // Conffiles the administrator changed are kept, and nothing ever waits for an answer.
  const dpkg = [
    '/bin/sh',
    '-c',
    'exec dpkg --force-confdef --force-confold --install "$0" >"$1" 2>&1',
    deb,
    logFile,
  ];
  const [command, ...args] = underSystemd
    ? [
        'systemd-run',
        '--quiet',
        '--collect',
        '--wait',
        `--unit=${unitName}`,
        '--setenv=DEBIAN_FRONTEND=noninteractive',
        ...dpkg,
      ]
    : dpkg;
  const code = await new Promise<number | string>((resolve) => {
    const child = spawn(command ?? '/bin/sh', args, {
      detached: !underSystemd,
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      stdio: 'ignore',
      timeout: INSTALL_TIMEOUT_MS,
    });
    child.on('error', (error) => resolve(error.message));
    child.on('close', (status, signal) => resolve(status ?? signal ?? 'unknown'));
  });
  if (code === 0) return { ok: true, underSystemd };
  let output = '';
  try {
    output = readFileSync(logFile, 'utf8');
  } catch {
    // dpkg never started; the code says why
  }
  const tail = output.trim().split('\n').slice(-5).join(' / ');
  return {
    ok: false,
    message: `dpkg could not install the package (${typeof code === 'number' ? `exit ${code}` : code})${tail === '' ? '' : `: ${tail.slice(0, 1500)}`}`,
  };
}
