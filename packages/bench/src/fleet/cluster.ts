// The processes a fleet runs against: a PostgreSQL cluster of its own (initdb in a scratch
// directory, a port of its own, as the `postgres` user when run as root) and `tether server`
// nodes sharing one data directory's TLS material and one public URL, so that a token one node
// issues is good at every other, as behind a load balancer.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CLOCK_TICKS } from '../keep-alive-load.js';
import type { Installation } from '../machine-fleet.js';
import { exited, listening, runTether, TETHER_BIN } from '../tether-process.js';

const run = promisify(execFile);

/** The public URL every node of a simulated deployment answers for (its load balancer's). */
export const FLEET_PUBLIC_URL = 'https://localhost:8443';

/** File descriptors a process that holds a large fleet's connections is given. */
export const FLEET_FD_LIMIT = 1_048_576;

export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(a) - Number(b));
  const newest = versions.at(-1);
  return newest === undefined ? undefined : join(root, newest, 'bin');
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A PostgreSQL cluster in a scratch directory of its own (owned by `postgres` when run as root)
 * on a port of its own; `destroy()` stops it and removes the directory.
 */
export class PostgresCluster {
  private constructor(
    readonly bin: string,
    readonly dir: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `postgres://tether@127.0.0.1:${this.port}/postgres`;
  }

  static async start(): Promise<PostgresCluster> {
    const bin = postgresBinDir();
    if (bin === undefined) throw new Error('PostgreSQL is not installed (/usr/lib/postgresql)');
    const dir = await mkdtemp(join(tmpdir(), 'tether-pg-'));
    if (process.getuid?.() === 0) await chown(dir, ...postgresIds());
    const cluster = new PostgresCluster(bin, dir, await freePort());
    await cluster.#as(join(bin, 'initdb'), [
      '-D',
      join(dir, 'data'),
      '-A',
      'trust',
      '-U',
      'tether',
    ]);
    await cluster.start();
    return cluster;
  }

  async start(): Promise<void> {
    await this.#as(join(this.bin, 'pg_ctl'), [
      '-D',
      join(this.dir, 'data'),
      '-l',
      join(this.dir, 'log'),
      '-w',
      '-o',
      `-c listen_addresses=127.0.0.1 -c port=${this.port} -k ${this.dir} -c max_connections=300 -c fsync=on`,
      'start',
    ]);
  }

  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    if (!existsSync(join(this.dir, 'data', 'postmaster.pid'))) return;
    await this.#as(join(this.bin, 'pg_ctl'), [
      '-D',
      join(this.dir, 'data'),
      '-m',
      mode,
      '-w',
      'stop',
    ]);
  }

  async destroy(): Promise<void> {
    await this.stop('immediate').catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
  }

  /** The postmaster's process id. */
  get pid(): number {
    const text = readFileSync(join(this.dir, 'data', 'postmaster.pid'), 'utf8');
    return Number(text.split('\n')[0]);
  }

  /**
   * CPU time of the postmaster and every backend it started, in milliseconds: its own, its
   * ended children's (which it waited for), and its live children's so far.
   */
  cpuMs(): number {
    const postmaster = this.pid;
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

  async #as(program: string, args: readonly string[]): Promise<void> {
    const [command, ...rest] =
      process.getuid?.() === 0
        ? ['runuser', '-u', 'postgres', '--', program, ...args]
        : [program, ...args];
    await run(command, rest, { cwd: this.dir });
  }
}

/** The fields of /proc/<pid>/stat after the command name (field 3 onwards). */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

function postgresIds(): [number, number] {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (line === undefined) throw new Error('no postgres user to run PostgreSQL as');
  const [, , uid, gid] = line.split(':');
  return [Number(uid), Number(gid)];
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
    env: { ...process.env },
  });
  if (log !== undefined) closeSync(log);
  children.push(child);
  await listening(child, /^tether listening on (https:\/\/\S+)$/m);
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
