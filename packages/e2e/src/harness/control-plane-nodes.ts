// Several `tether server` nodes over one PostgreSQL database behind HAProxy (Debian's haproxy),
// as docs/running-several-nodes.md deploys them: HAProxy ends the clients' TLS with the
// control plane's certificate and opens its own TLS to the nodes (verified against the same CA),
// adds X-Forwarded-For, which the nodes believe from it alone, and sends requests to the nodes
// whose /readyz answers 200. The plane it returns is reached only through HAProxy.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdminClient } from './admin-client.js';
import { freePort } from './free-port.js';
import { postgresUnavailable, startTestPostgres, type TestPostgres } from './postgres-server.js';
import {
  runTether,
  startServer,
  type ControlPlane,
  type InitOutput,
  type ServerProcess,
} from './start-control-plane.js';

export interface ControlPlaneNodes {
  /** The control plane as clients see it: through HAProxy. */
  plane: ControlPlane;
  /** PostgreSQL URL of the database the nodes share. */
  databaseUrl: string;
  database: TestPostgres;
  /** The node processes; `startNode(i)` replaces one that was stopped or killed. */
  nodes: ServerProcess[];
  /** Each node's own address (`https://127.0.0.1:PORT`), HAProxy bypassed. */
  nodeUrls: string[];
  /** Starts node `i` again, on its port, once its process is gone. */
  startNode(i: number): Promise<void>;
  /** Current connections HAProxy holds to each node, by index. */
  connectionsPerNode(): Promise<number[]>;
  stop(): Promise<void>;
}

export const HAPROXY = '/usr/sbin/haproxy';

/** Why the nodes cannot run here, or undefined when they can. */
export function controlPlaneNodesUnavailable(
  options: { ownPostgres?: boolean } = {},
): string | undefined {
  if (!existsSync(HAPROXY)) return 'needs HAProxy (Debian haproxy)';
  return postgresUnavailable({ own: options.ownPostgres === true });
}

/** `ownPostgres`: a PostgreSQL cluster of the test's own, which it may stop and start. */
export async function startControlPlaneNodes(
  count: number,
  serverArgs: readonly string[] = [],
  options: { ownPostgres?: boolean } = {},
): Promise<ControlPlaneNodes> {
  const root = mkdtempSync(join(tmpdir(), 'tether-nodes-'));
  const database = await startTestPostgres({ own: options.ownPostgres === true });
  const nodes: ServerProcess[] = [];
  let haproxy: ChildProcess | undefined;
  const stop = async () => {
    haproxy?.kill('SIGKILL');
    await Promise.all(nodes.map((node) => node.stop()));
    await database.dispose();
    rmSync(root, { recursive: true, force: true });
  };
  try {
    const dataDir = join(root, 'data');
    const init = JSON.parse(
      await runTether([
        'init',
        '--data-dir',
        dataDir,
        '--database-url',
        database.url,
        '--san',
        '127.0.0.1',
        '--json',
      ]),
    ) as InitOutput;
    const frontPort = await freePort();
    const url = `https://127.0.0.1:${frontPort}`;
    const ports: number[] = [];
    const argsOf: string[][] = [];
    for (let i = 0; i < count; i++) {
      ports.push(await freePort());
      const args = [
        '--database-url',
        database.url,
        '--public-url',
        url,
        '--trusted-proxy',
        '127.0.0.1',
        ...(i === 0
          ? []
          : [
              '--tls-cert',
              join(dataDir, 'tls', 'server.crt'),
              '--tls-key',
              join(dataDir, 'tls', 'server.key'),
            ]),
        ...serverArgs,
      ];
      argsOf.push(args);
      // The first node makes the certificate the others then serve too.
      nodes.push(await startServer(dataDir, `127.0.0.1:${String(ports[i])}`, args, []));
    }
    const config = join(root, 'haproxy.cfg');
    const socket = join(root, 'haproxy.sock');
    // HAProxy reads the certificate and its key from one file.
    const certificate = join(root, 'haproxy.pem');
    writeFileSync(
      certificate,
      readFileSync(join(dataDir, 'tls', 'server.crt'), 'utf8') +
        readFileSync(join(dataDir, 'tls', 'server.key'), 'utf8'),
      { mode: 0o600 },
    );
    writeFileSync(config, haproxyConfig(frontPort, ports, certificate, init.caCert, socket));
    execFileSync(HAPROXY, ['-c', '-q', '-f', config], { stdio: 'pipe' });
    haproxy = spawn(HAPROXY, ['-db', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let haproxyLog = '';
    haproxy.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      haproxyLog = (haproxyLog + chunk).slice(-100_000);
    });
    const admin = new AdminClient(url, init.caCert, init.tenantId, init.appId, init.password);
    await waitUntilServing(admin, () => haproxyLog);
    const plane: ControlPlane = {
      url,
      ...init,
      dataDir,
      admin,
      clientEnv: (more = {}) => ({ ...more, NODE_EXTRA_CA_CERTS: init.caCert }),
      logs: () =>
        [
          ...nodes.map((node, i) => `--- node ${i}\n${node.logs()}`),
          `--- haproxy\n${haproxyLog}`,
        ].join('\n'),
      restart: () => Promise.reject(new Error('restart one of the nodes instead')),
      crash: () => Promise.reject(new Error('kill one of the nodes instead')),
      stop,
    };
    return {
      plane,
      databaseUrl: database.url,
      database,
      nodes,
      nodeUrls: ports.map((port) => `https://127.0.0.1:${port}`),
      async startNode(i) {
        nodes[i] = await startServer(dataDir, `127.0.0.1:${String(ports[i])}`, argsOf[i] ?? [], []);
      },
      connectionsPerNode: () => currentSessions(socket, count),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The documented configuration (docs/running-several-nodes.md), on this test's ports. */
function haproxyConfig(
  front: number,
  nodes: readonly number[],
  certificate: string,
  caCert: string,
  socket: string,
) {
  return `global
    stats socket ${socket} mode 600 level admin
    ssl-default-bind-options ssl-min-ver TLSv1.2

defaults
    mode http
    option forwardfor
    option redispatch
    retries 3
    timeout connect 2s
    timeout client 5m
    timeout server 5m
    timeout http-request 10s
    timeout http-keep-alive 30s
    timeout tunnel 10m
    timeout check 2s
    # No node ready (the database away, say): an answer in the nodes' own shape, not a page.
    http-error status 503 content-type application/json hdr retry-after 5 string "{\\"error\\":{\\"code\\":\\"ServiceUnavailable\\",\\"message\\":\\"No control-plane node is ready; try again in 5 s.\\"}}"

frontend tether
    bind 127.0.0.1:${front} ssl crt ${certificate}
    default_backend tether_nodes

backend tether_nodes
    balance leastconn
    option httpchk GET /readyz
    http-check expect status 200
    default-server ssl verify required ca-file ${caCert} check inter 1s fall 2 rise 2 on-marked-down shutdown-sessions
${nodes.map((port, i) => `    server node${i} 127.0.0.1:${port}`).join('\n')}
`;
}

async function waitUntilServing(admin: AdminClient, logs: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await admin.call('GET', '/readyz', { token: null })).status === 200) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`HAProxy did not serve within 30 s:\n${logs()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** `show stat` on HAProxy's socket: the `scur` column of each server line. */
function currentSessions(socket: string, count: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    let text = '';
    const connection = connect(socket, () => connection.end('show stat\n'));
    connection.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    connection.on('error', reject);
    connection.on('end', () => {
      const [header = '', ...rows] = text.split('\n');
      const columns = header.replace(/^# /, '').split(',');
      const name = columns.indexOf('svname');
      const current = columns.indexOf('scur');
      const sessions = new Array<number>(count).fill(0);
      for (const row of rows) {
        const fields = row.split(',');
        const match = /^node(\d+)$/.exec(fields[name] ?? '');
        if (match !== null) sessions[Number(match[1])] = Number(fields[current] ?? 0);
      }
      resolve(sessions);
    });
  });
}

export type { TestPostgres };
