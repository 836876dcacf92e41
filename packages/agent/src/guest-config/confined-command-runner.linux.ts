// Runs a guest configuration `command` rule as root but unable to change the agent: in private
// mount and process namespaces (util-linux unshare) where the agent's folders and the places that
// start programs later are read-only bind mounts, without the capabilities to undo that (setpriv).
// Anything that keeps the confinement from being set up refuses the command: it never runs bare.
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { constants as os } from 'node:os';
import { AGENT_FOLDERS, type CommandRule } from '@tether/protocol';
import type { CommandRunner } from './evaluate-configuration.js';
import type { CommandOutcome } from './rule-facts.js';

/** Where a command could plant something that later starts or changes the agent. */
const STARTUP_PATHS = [
  '/etc/systemd',
  '/lib/systemd',
  '/usr/lib/systemd',
  '/etc/ld.so.preload',
  '/etc/ld.so.conf.d',
  '/var/spool/cron',
];

/**
 * Dropped from the bounding set, so neither the command nor anything it starts holds them:
 * SYS_ADMIN (mount, setns), SYS_PTRACE and the rest could undo the read-only mounts or reach
 * the agent's memory; DAC_READ_SEARCH opens files by handle through a writable mount.
 */
const DROPPED_CAPABILITIES = [
  'sys_admin',
  'sys_ptrace',
  'sys_module',
  'sys_rawio',
  'sys_boot',
  'sys_chroot',
  'mknod',
  'dac_read_search',
  'linux_immutable',
  'mac_admin',
  'mac_override',
  'bpf',
  'perfmon',
  'setfcap',
  'setpcap',
];

/** Mounts each path read-only, then drops capabilities and signals fd 3 before the command. */
const SETUP_SCRIPT = `set -e
mount_bin=$1; shift
while [ "$1" != "--" ]; do
  "$mount_bin" --bind "$1" "$1"
  "$mount_bin" -o remount,bind,ro "$1"
  shift
done
shift
setpriv_bin=$1; shift
exec "$setpriv_bin" --bounding-set="${DROPPED_CAPABILITIES.map((c) => `-${c}`).join(',')}" \\
  --inh-caps=-all --ambient-caps=-all --no-new-privs -- \\
  /bin/sh -c 'printf confined >&3 && exec 3>&- && exec "$@"' command "$@"`;

const MARKER = 'confined';
const OUTPUT_TAIL = 2000;
const ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' };

export interface ConfinementOptions {
  /** Paths made read-only for the command; the agent's folders and startup paths by default. */
  readonly readOnly?: readonly string[];
  readonly unshare?: string;
  readonly setpriv?: string;
  readonly mount?: string;
}

export function createConfinedCommandRunner(options: ConfinementOptions = {}): CommandRunner {
  return (rule) => runConfined(rule, options);
}

/** The default read-only paths that exist now (a bind mount needs its target). */
export function defaultReadOnlyPaths(): string[] {
  let cron: string[] = [];
  try {
    cron = readdirSync('/etc')
      .filter((name) => name.startsWith('cron'))
      .map((n) => `/etc/${n}`);
  } catch {
    cron = [];
  }
  return [...AGENT_FOLDERS, ...STARTUP_PATHS, ...cron].filter((path) => existsSync(path));
}

async function runConfined(
  rule: CommandRule,
  options: ConfinementOptions,
): Promise<CommandOutcome> {
  if (process.platform !== 'linux') return refused('confinement needs Linux namespaces');
  if (process.getuid?.() !== 0) {
    return refused(
      'the guest configuration service is not running as root, so it cannot confine it',
    );
  }
  const unshare = options.unshare ?? '/usr/bin/unshare';
  const setpriv = options.setpriv ?? '/usr/bin/setpriv';
  const mount = options.mount ?? '/usr/bin/mount';
  for (const tool of [unshare, setpriv, mount]) {
    try {
      accessSync(tool, constants.X_OK);
    } catch {
      return refused(`${tool} (util-linux) is not installed, so the command cannot be confined`);
    }
  }
  const readOnly = options.readOnly ?? defaultReadOnlyPaths();
  const args = [
    '--mount',
    '--propagation',
    'private',
    '--pid',
    '--fork',
    '--kill-child',
    '--mount-proc',
    '--',
    '/bin/sh',
    '-c',
    SETUP_SCRIPT,
    'confine',
    mount,
    ...readOnly,
    '--',
    setpriv,
    ...rule.command,
  ];
  return new Promise((resolve) => {
    const child = spawn(unshare, args, {
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      detached: true,
      env: ENV,
    });
    let output = '';
    let marker = '';
    let timedOut = false;
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.stdio[3]?.on('data', (chunk: Buffer) => {
      marker += chunk.toString('utf8');
    });
    // The whole group: with --kill-child, unshare's death takes its namespace's processes along.
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, rule.timeoutSeconds * 1000);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve(refused(`${unshare} could not be started: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const tail = tidy(output);
      if (timedOut) {
        resolve({ outcome: 'timedOut', seconds: rule.timeoutSeconds, output: tail });
      } else if (marker !== MARKER) {
        resolve(refused(`the confinement could not be set up${tail === '' ? '' : `: ${tail}`}`));
      } else {
        const exitCode = code ?? 128 + (signal === null ? 0 : os.signals[signal]);
        resolve({ outcome: 'exited', exitCode, output: tail });
      }
    });
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** The end of the output as one readable line: control characters out, bounded. */
function tidy(output: string): string {
  const flat = output
    .replace(/\s+/g, ' ')
    .replace(/\p{Cc}/gu, '')
    .trim();
  return flat.length > 500 ? `…${flat.slice(-500)}` : flat;
}

function refused(reason: string): CommandOutcome {
  return { outcome: 'refused', reason };
}
