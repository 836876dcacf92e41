// A PostgreSQL database of a test's own: a fresh database on the server TETHER_TEST_POSTGRES_URL
// names (CI starts one), or else a cluster of its own in /tmp on a free port (Debian's
// postgresql, run as its `postgres` account when root), stopped and deleted afterwards. The
// fleet benchmark and the fault suite start their clusters here too.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './free-port.js';

const run = promisify(execFile);

export interface TestPostgres {
  /** A database nothing else uses. */
  url: string;
  /** A cluster of the test's own only: stops PostgreSQL (fast shutdown), and starts it again. */
  server?: { stop(): Promise<void>; start(): Promise<void> };
  dispose(): Promise<void>;
}

/**
 * Why no PostgreSQL can be had here, or undefined when one can. `own`: a cluster of the test's
 * own is needed (to stop it, say), not a database on a shared server.
 */
export function postgresUnavailable(options: { own?: boolean } = {}): string | undefined {
  if (options.own !== true && (process.env['TETHER_TEST_POSTGRES_URL'] ?? '') !== '') {
    return undefined;
  }
  if (postgresBinDir() === undefined) {
    return 'needs PostgreSQL (Debian postgresql) or TETHER_TEST_POSTGRES_URL';
  }
  return undefined;
}

export async function startTestPostgres(options: { own?: boolean } = {}): Promise<TestPostgres> {
  const shared = process.env['TETHER_TEST_POSTGRES_URL'] ?? '';
  if (shared !== '' && options.own !== true) return freshDatabase(shared);
  return ownCluster();
}

async function freshDatabase(serverUrl: string): Promise<TestPostgres> {
  const name = `tether_e2e_${randomBytes(6).toString('hex')}`;
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    dispose: () => admin(`DROP DATABASE ${name} WITH (FORCE)`),
  };
}

/** Debian's newest PostgreSQL programs (`/usr/lib/postgresql/N/bin`), if installed. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(a) - Number(b));
  const newest = versions.at(-1);
  return newest === undefined ? undefined : join(root, newest, 'bin');
}

/**
 * A PostgreSQL cluster in a scratch directory of its own on a port of its own, run as the
 * `postgres` account when this process is root (initdb refuses root) and as this process's
 * user otherwise; `destroy()` stops it and removes the directory. Up to 300 connections, for
 * several nodes' pools at once.
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
    try {
      if (process.getuid?.() === 0) await run('chown', ['postgres:', dir]);
      const cluster = new PostgresCluster(bin, dir, await freePort());
      await cluster.#as('initdb', ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'tether']);
      await cluster.start();
      return cluster;
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  async start(): Promise<void> {
    await this.#as('pg_ctl', [
      '-D',
      join(this.dir, 'data'),
      '-l',
      join(this.dir, 'log'),
      '-w',
      '-o',
      `-c listen_addresses=127.0.0.1 -c port=${this.port} -k ${this.dir} -c max_connections=300`,
      'start',
    ]);
  }

  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    if (!existsSync(join(this.dir, 'data', 'postmaster.pid'))) return;
    await this.#as('pg_ctl', ['-D', join(this.dir, 'data'), '-m', mode, '-w', 'stop']);
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

  async #as(program: string, args: readonly string[]): Promise<void> {
    const path = join(this.bin, program);
    const [command, ...rest] =
      process.getuid?.() === 0
        ? ['runuser', '-u', 'postgres', '--', path, ...args]
        : [path, ...args];
    await run(command, rest, { cwd: this.dir });
  }
}

async function ownCluster(): Promise<TestPostgres> {
  const cluster = await PostgresCluster.start();
  return {
    url: cluster.url,
    server: { stop: () => cluster.stop('fast'), start: () => cluster.start() },
    dispose: () => cluster.destroy(),
  };
}
