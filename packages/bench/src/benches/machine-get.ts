// Authenticated `GET …/machines/{name}` per second against the real `tether server` over HTTPS
// with keep-alive, beside a bare node:https server (same certificate, same response bytes) in
// the same run, driven by one lean keep-alive TLS load generator. Rounds alternate to share noise.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:https';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dataDirPaths } from '@tether/control-plane/server/data-dir';
import { startTetherServer, type Installation } from '../machine-fleet.js';
import { exited, listening } from '../tether-process.js';
import { serveFloorUntilTerminated } from '../floor-server.js';
import { report } from '../stats.js';
import {
  compareWithFloor,
  cpuPerRequest,
  rate,
  latencyRows,
  type Schedule,
} from '../keep-alive-load.js';

const SCHEDULE: Schedule = { connections: 16, warmupMs: 1_500, roundMs: 1_500, rounds: 5 };
const MACHINES = 5;

export async function run(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'tether-bench-'));
  const dataDir = join(root, 'data');
  const children: ChildProcess[] = [];
  try {
    // MACHINE_GET_BENCH_NODE_FLAGS="--cpu-prof --cpu-prof-dir=DIR" profiles the server.
    const nodeFlags = (process.env['MACHINE_GET_BENCH_NODE_FLAGS'] ?? '')
      .split(' ')
      .filter(Boolean);
    const {
      install,
      ca,
      port,
      child: server,
    } = await startTetherServer(dataDir, nodeFlags, children);

    const token = await fetchToken(port, ca, install);
    const group = `/subscriptions/${install.subscriptionId}/resourceGroups/bench`;
    await call(port, ca, 'PUT', `${group}?api-version=2021-04-01`, token, {
      location: 'westeurope',
    });
    for (let i = 0; i < MACHINES; i++) {
      await call(
        port,
        ca,
        'PUT',
        `${group}/providers/Microsoft.HybridCompute/machines/node-${i}?api-version=2021-05-20`,
        token,
        {
          location: 'westeurope',
          tags: { role: 'web' },
          properties: {
            osName: 'ubuntu',
            osType: 'linux',
            osVersion: '24.04',
            agentVersion: '1.40.0',
            machineFqdn: `node-${i}.bench.test`,
          },
        },
      );
    }
    const path = `${group}/providers/Microsoft.HybridCompute/machines/node-2?api-version=2021-05-20`;
    const sample = await call(port, ca, 'GET', path, token);
    if (sample.status !== 200)
      throw new Error(`GET machine answered ${sample.status}: ${sample.text}`);

    const tls = dataDirPaths(dataDir).tls;
    const floor = spawn(
      process.execPath,
      [fileURLToPath(import.meta.url), '--floor', join(tls, 'server.crt'), join(tls, 'server.key')],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    children.push(floor);
    floor.stdin.end(JSON.stringify({ body: sample.text, headers: sample.headers }));
    const floorPort = Number(await listening(floor, /^floor listening on (\d+)$/m));

    const request = Buffer.from(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${token}\r\nAccept: application/json\r\nConnection: keep-alive\r\n\r\n`,
    );
    const next = (): Buffer => request;
    const { tether, floor: bare } = await compareWithFloor(
      { port, pid: server.pid ?? 0 },
      { port: floorPort, pid: floor.pid ?? 0 },
      ca,
      next,
      SCHEDULE,
    );
    if (tether.errors > 0) throw new Error(`${tether.errors} Tether responses were not 200 OK`);
    report(
      `machine-get: authenticated GET machine, HTTPS keep-alive, ${SCHEDULE.connections} connections, ${sample.text.length}-byte body (${cpus().length} CPUs, load ${loadavg()[0]?.toFixed(1) ?? '?'})`,
      [
        {
          metric: 'GET machine throughput',
          value: rate(tether),
          unit: 'req/s',
          floor: rate(bare),
          target: '>= 0.7x floor',
        },
        {
          metric: 'server CPU per GET',
          value: cpuPerRequest(tether),
          unit: 'µs',
          floor: cpuPerRequest(bare),
        },
        {
          metric: 'load generator CPU per GET',
          value: Math.round((tether.clientCpuMs * 10_000) / tether.requests) / 10,
          unit: 'µs',
          floor: Math.round((bare.clientCpuMs * 10_000) / bare.requests) / 10,
        },
        ...latencyRows(tether, bare),
      ],
    );
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map(exited));
    await rm(root, { recursive: true, force: true });
  }
}

interface Answer {
  status: number;
  text: string;
  headers: Record<string, string>;
}

async function call(
  port: number,
  ca: Buffer,
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<Answer> {
  const { request } = await import('node:https');
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method,
        ca,
        servername: 'localhost',
        headers: {
          authorization: `Bearer ${token}`,
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c));
        res.on('end', () => {
          const headers: Record<string, string> = {};
          for (const [name, value] of Object.entries(res.headers))
            if (typeof value === 'string') headers[name] = value;
          resolve({ status: res.statusCode ?? 0, text, headers });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function fetchToken(port: number, ca: Buffer, install: Installation): Promise<string> {
  const { request } = await import('node:https');
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: install.appId,
    client_secret: install.password,
    scope: 'https://management.azure.com/.default',
  }).toString();
  const text = await new Promise<string>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: `/${install.tenantId}/oauth2/v2.0/token`,
        method: 'POST',
        ca,
        servername: 'localhost',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c));
        res.on('end', () => resolve(body));
      },
    );
    req.on('error', reject);
    req.end(form);
  });
  const token = (JSON.parse(text) as { access_token?: unknown }).access_token;
  if (typeof token !== 'string') throw new Error(`no token: ${text}`);
  return token;
}

/** The floor: node:https with Tether's certificate, answering Tether's own response bytes. */
function serveFloor(certFile: string, keyFile: string): void {
  let input = '';
  process.stdin.setEncoding('utf8').on('data', (c: string) => (input += c));
  process.stdin.on('end', () => {
    const sample = JSON.parse(input) as { body: string; headers: Record<string, string> };
    const body = Buffer.from(sample.body);
    const headers = Object.fromEntries(
      Object.entries(sample.headers).filter(
        ([name]) => !['date', 'connection', 'keep-alive', 'content-length'].includes(name),
      ),
    );
    const server = createServer(
      { cert: readFileSync(certFile), key: readFileSync(keyFile), keepAliveTimeout: 72_000 },
      (_req, res) => {
        res.writeHead(200, { ...headers, 'content-length': body.length });
        res.end(body);
      },
    );
    serveFloorUntilTerminated(server);
  });
}

if (
  process.argv[2] === '--floor' &&
  import.meta.url === pathToFileURL(process.argv[1] ?? '').href
) {
  serveFloor(process.argv[3] ?? '', process.argv[4] ?? '');
}
