// A PostgreSQL database of a test's own: a fresh database on the server TETHER_TEST_POSTGRES_URL
// names (CI starts one), or else a cluster of its own in /tmp on a free port (Debian's
// postgresql, run as its `postgres` account), stopped and deleted afterwards.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './free-port.js';

export interface TestPostgres {
  /** A database nothing else uses. */
  url: string;
  /** A cluster of the test's own only: stops PostgreSQL (fast shutdown), and starts it again. */
  server?: { stop(): void; start(): void };
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
  if (postgresBin() === undefined) {
    return 'needs PostgreSQL (Debian postgresql) or TETHER_TEST_POSTGRES_URL';
  }
  if (process.getuid?.() !== 0) return 'starting a PostgreSQL cluster of its own needs root';
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

function postgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(a) - Number(b));
  const newest = versions.at(-1);
  return newest === undefined ? undefined : join(root, newest, 'bin');
}

async function ownCluster(): Promise<TestPostgres> {
  const bin = postgresBin();
  if (bin === undefined) throw new Error('PostgreSQL is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'tether-e2e-pg-'));
  const asPostgres = (command: string, args: string[]) =>
    execFileSync('runuser', ['-u', 'postgres', '--', join(bin, command), ...args], {
      stdio: 'pipe',
    });
  try {
    execFileSync('chown', ['postgres:', dir]);
    asPostgres('initdb', ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'tether']);
    const port = await freePort();
    const start = () =>
      asPostgres('pg_ctl', [
        '-D',
        join(dir, 'data'),
        '-l',
        join(dir, 'log'),
        '-w',
        '-o',
        `-c listen_addresses=127.0.0.1 -c port=${port} -k ${dir}`,
        'start',
      ]);
    start();
    return {
      url: `postgres://tether@127.0.0.1:${port}/postgres`,
      server: {
        stop: () => asPostgres('pg_ctl', ['-D', join(dir, 'data'), '-m', 'fast', '-w', 'stop']),
        start,
      },
      dispose() {
        try {
          asPostgres('pg_ctl', ['-D', join(dir, 'data'), '-m', 'immediate', 'stop']);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
        return Promise.resolve();
      },
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
