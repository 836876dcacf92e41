// The processes a fleet runs against: a PostgreSQL cluster of its own (the e2e harness's, in a scratch
// directory, a port of its own, as the `postgres` user when run as root) and `tether server`
// nodes sharing one data directory's TLS material and one public URL, so that a token one node
// issues is good at every other, as behind a load balancer.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort } from '@tether/e2e/dist/harness/free-port.js';
import type { PostgresCluster } from '@tether/e2e/dist/harness/postgres-server.js';
import type { LoopDelay } from './loop-delay-probe.js';
import { CLOCK_TICKS } from '../keep-alive-load.js';
import type { Installation } from '../machine-fleet.js';
import { exited, listening, runTether, TETHER_BIN } from '../tether-process.js';

/** The public URL every node of a simulated deployment answers for (its load balancer's). */
export const FLEET_PUBLIC_URL = 'https://localhost:8443';

/** File descriptors a process that holds a large fleet's connections is given. */
export const FLEET_FD_LIMIT = 1_048_576;

/**
 * CPU time of a PostgreSQL cluster's postmaster and every backend it started, in milliseconds:
 * its own, its ended children's (which it waited for), and its live children's so far.
 */
export function postgresCpuMs(postgres: PostgresCluster): number {
  const postmaster = postgres.pid;
  const fields = statFields(postmaster);
  // utime, stime, cutime, cstime: fields 14-17.
  let ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const child = statFields(Number(entry));
      if (Number(child[1]) === postmaster) ticks += Number(child[11]) + Number(child[12]);
    } catch {
      // The process ended while being read.
    }
  }
  return (ticks * 1000) / CLOCK_TICKS;
}

/** The fields of /proc/<pid>/stat after the command name (field 3 onwards). */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** `tether init` of a data directory, on PostgreSQL when a URL is given. */
export async function initInstallation(
  dataDir: string,
  databaseUrl: string | undefined,
): Promise<Installation> {
  const args = ['init', '--data-dir', dataDir, '--json'];
  if (databaseUrl !== undefined) args.push('--database-url', databaseUrl);
  return JSON.parse(await runTether(args)) as Installation;
}

export interface NodeOptions {
  readonly dataDir: string;
  readonly databaseUrl?: string | undefined;
  /** Further `tether server` flags, e.g. `--heartbeat-interval 10s`. */
  readonly flags?: readonly string[];
  /** Node.js flags, e.g. `--cpu-prof`. */
  readonly nodeFlags?: readonly string[];
  /** The URL every node answers for; FLEET_PUBLIC_URL when not given. */
  readonly publicUrl?: string;
  /** The port to listen on; a free one when not given. */
  readonly port?: number;
  /** Where the node's log (stderr) goes; this process's stderr when not given. */
  readonly logFile?: string;
  /** Raise the open-file limit (needs root beyond the hard limit). */
  readonly fdLimit?: number;
  /** Further environment variables. */
  readonly env?: Readonly<Record<string, string>>;
  /** How long the node may take to listen (many workers on a busy machine take a while). */
  readonly startTimeoutMs?: number;
}

export interface TetherNode {
  readonly port: number;
  readonly child: ChildProcess;
  readonly pid: number;
}

/**
 * One `tether server` on 127.0.0.1, answering for the public URL given; the child is
 * pushed to `children` before it is waited on, so the caller's clean-up ends it.
 */
export async function startNode(
  options: NodeOptions,
  children: ChildProcess[],
): Promise<TetherNode> {
  const port = options.port ?? (await freePort());
  const args = [
    ...(options.nodeFlags ?? []),
    TETHER_BIN,
    'server',
    '--data-dir',
    options.dataDir,
    '--listen',
    `127.0.0.1:${port}`,
    '--public-url',
    options.publicUrl ?? FLEET_PUBLIC_URL,
    '--log-level',
    'warn',
    ...(options.databaseUrl === undefined ? [] : ['--database-url', options.databaseUrl]),
    ...(options.flags ?? []),
  ];
  const [command, ...rest] = withFdLimit(options.fdLimit, [process.execPath, ...args]);
  const log = options.logFile === undefined ? undefined : openSync(options.logFile, 'a');
  const child = spawn(command as string, rest, {
    stdio: ['ignore', 'pipe', log ?? 'inherit'],
    env: { ...process.env, ...options.env },
  });
  if (log !== undefined) closeSync(log);
  children.push(child);
  await listening(child, /^tether listening on (https:\/\/\S+)$/m, options.startTimeoutMs);
  return { port, child, pid: child.pid ?? 0 };
}

/** This process's open-file limits: [soft, hard]. */
export function fdLimits(): [number, number] {
  const line = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(
    readFileSync('/proc/self/limits', 'utf8'),
  );
  const value = (text: string | undefined): number =>
    text === undefined || text === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(text);
  return [value(line?.[1]), value(line?.[2])];
}

/**
 * A command run with its open-file limit raised towards `limit` — as far as the hard limit,
 * which only a process allowed to (CAP_SYS_RESOURCE) may pass — when `prlimit` exists.
 */
export function withFdLimit(limit: number | undefined, command: readonly string[]): string[] {
  if (limit === undefined || !existsSync('/usr/bin/prlimit')) return [...command];
  const [soft, hard] = fdLimits();
  const wanted = Math.min(limit, hard);
  if (wanted <= soft) return [...command];
  return ['/usr/bin/prlimit', `--nofile=${wanted}:${hard}`, ...command];
}

export async function stopNode(
  node: TetherNode,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<void> {
  node.child.kill(signal);
  await exited(node.child);
}

/** The loop-delay probe's module, for a node's `--import`. */
export const LOOP_DELAY_PROBE = fileURLToPath(new URL('./loop-delay-probe.js', import.meta.url));

/**
 * The options that make a node measure its event-loop delay into `file`; read the delays of a
 * window with `loopDelay` at its start (discarded) and at its end.
 */
export function loopDelayOptions(file: string): Pick<NodeOptions, 'nodeFlags' | 'env'> {
  return { nodeFlags: ['--import', LOOP_DELAY_PROBE], env: { TETHER_BENCH_LOOP_DELAY_FILE: file } };
}

/** The event-loop delays the node saw since the last call (its probe starts over). */
export async function loopDelay(node: TetherNode, file: string): Promise<LoopDelay> {
  const previous = readDelay(file)?.sequence ?? 0;
  process.kill(node.pid, 'SIGUSR2');
  for (let i = 0; i < 200; i++) {
    const delay = readDelay(file);
    if (delay !== undefined && delay.sequence > previous) return delay;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`the node's loop-delay probe did not answer in ${file}`);
}

function readDelay(file: string): LoopDelay | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LoopDelay;
  } catch {
    return undefined;
  }
}
