// Authenticated heartbeats from 10,000 machines against the real `tether server` over HTTPS
// keep-alive: server CPU time per heartbeat (from /proc/<pid>/stat) and heartbeats/s, beside a
// bare node:https server that parses the same JSON body and answers same-size bytes.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { Agent, createServer, request } from 'node:https';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SignJWT } from 'jose';
import { dataDirPaths } from '@tether/control-plane/server/data-dir';
import { exited, listening, runTether, TETHER_BIN } from '../tether-process.js';
import { report, summarize } from '../stats.js';

const MACHINES = Number(process.env['HEARTBEAT_BENCH_MACHINES'] ?? 10_000);
const SETUP_PARALLEL = 32;
const CONNECTIONS = 64;
const WARMUP_MS = 2_000;
const ROUND_MS = 5_000;
const ROUNDS = 2;
const V = 'api-version=2024-07-10';
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
const AGENT_CONFIGURATION = {
  extensionsAllowList: [],
  extensionsBlockList: [],
  extensionsEnabled: 'true',
  guestConfigurationEnabled: 'true',
  configMode: 'full',
  proxyUrl: '',
  proxyBypass: [],
  incomingConnectionsPorts: [],
  incomingConnectionsEnabled: 'true',
};

interface Installation {
  tenantId: string;
  subscriptionId: string;
  appId: string;
  password: string;
  caCert: string;
}

interface Answer {
  status: number;
  text: string;
  headers: Record<string, string>;
}

interface Measured {
  requests: number;
  errors: number;
  ms: number;
  cpuMs: number;
  latencies: number[];
}

export async function run(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'tether-bench-'));
  const dataDir = join(root, 'data');
  const children: ChildProcess[] = [];
  try {
    const install = JSON.parse(
      await runTether(['init', '--data-dir', dataDir, '--json']),
    ) as Installation;
    const ca = readFileSync(install.caCert);
    // HEARTBEAT_BENCH_NODE_FLAGS="--cpu-prof --cpu-prof-dir=DIR" profiles the server.
    const nodeFlags = (process.env['HEARTBEAT_BENCH_NODE_FLAGS'] ?? '').split(' ').filter(Boolean);
    const server = spawn(
      process.execPath,
      [
        ...nodeFlags,
        TETHER_BIN,
        'server',
        '--data-dir',
        dataDir,
        '--listen',
        '127.0.0.1:0',
        '--log-level',
        'warn',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env } },
    );
    children.push(server);
    const url = await listening(server, /^tether listening on (https:\/\/\S+)$/m);
    const port = Number(new URL(url).port);
    const agent = new Agent({ keepAlive: true, maxSockets: SETUP_PARALLEL, ca });
    const call = (method: string, path: string, token: string | undefined, body?: unknown) =>
      httpsCall(agent, port, method, path, token, body);

    const admin = await formToken(agent, port, install.tenantId, {
      grant_type: 'client_credentials',
      client_id: install.appId,
      client_secret: install.password,
      scope: `${url}/.default`,
    });
    const group = `/subscriptions/${install.subscriptionId}/resourceGroups/bench`;
    await call('PUT', `${group}?api-version=2021-04-01`, admin, { location: 'westeurope' });

    // Setup, not timed: every machine onboarded through the API with its own P-256 key.
    let started = performance.now();
    const machines = await inParallel(MACHINES, async (i) => {
      const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const der = publicKey.export({ format: 'der', type: 'spki' });
      const name = `node-${i}`;
      const put = await call(
        'PUT',
        `${group}/providers/Microsoft.HybridCompute/machines/${name}?${V}`,
        admin,
        {
          location: 'westeurope',
          identity: { type: 'SystemAssigned' },
          properties: {
            clientPublicKey: der.toString('base64'),
            osName: 'linux',
            agentVersion: '1.0',
          },
        },
      );
      if (put.status !== 201) throw new Error(`PUT ${name} answered ${put.status}: ${put.text}`);
      const principalId = (JSON.parse(put.text) as { identity: { principalId: string } }).identity
        .principalId;
      const kid = createHash('sha256').update(der).digest('base64url');
      return { name, principalId, kid, privateKey };
    });
    const onboardSeconds = (performance.now() - started) / 1000;

    // Setup, not timed: each machine's token through the token endpoint with its assertion.
    started = performance.now();
    const tokenEndpoint = `${url}/${install.tenantId}/oauth2/v2.0/token`;
    const requests = await inParallel(MACHINES, async (i) => {
      const m = machines[i];
      if (m === undefined) throw new Error('no machine');
      const now = Math.floor(Date.now() / 1000);
      const assertion = await new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: m.kid })
        .setIssuer(m.principalId)
        .setSubject(m.principalId)
        .setAudience(tokenEndpoint)
        .setJti(randomUUID())
        .setIssuedAt(now)
        .setNotBefore(now)
        .setExpirationTime(now + 600)
        .sign(m.privateKey);
      const token = await formToken(agent, port, install.tenantId, {
        grant_type: 'client_credentials',
        client_id: m.principalId,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
        scope: `${url}/.default`,
      });
      const body = JSON.stringify({
        agentVersion: '1.0',
        osName: 'linux',
        osType: 'linux',
        osVersion: '24.04',
        machineFqdn: `${m.name}.bench.test`,
        serviceStatuses: {
          himds: { status: 'running', startupType: 'automatic' },
          gcarcservice: { status: 'running', startupType: 'automatic' },
          extensionservice: { status: 'running', startupType: 'automatic' },
        },
        agentConfiguration: AGENT_CONFIGURATION,
      });
      return Buffer.from(
        `POST ${group}/providers/Microsoft.HybridCompute/machines/${m.name}/heartbeat?${V} HTTP/1.1\r\n` +
          `Host: 127.0.0.1:${port}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: keep-alive\r\n\r\n${body}`,
      );
    });
    const tokenSeconds = (performance.now() - started) / 1000;
    agent.destroy();

    const sample = await rawExchange(port, ca, requests[0] ?? Buffer.alloc(0));
    if (sample.status !== 200)
      throw new Error(`heartbeat answered ${sample.status}: ${sample.text}`);

    const tls = dataDirPaths(dataDir).tls;
    const floor = spawn(
      process.execPath,
      [fileURLToPath(import.meta.url), '--floor', join(tls, 'server.crt'), join(tls, 'server.key')],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    children.push(floor);
    floor.stdin.end(JSON.stringify({ body: sample.text, headers: sample.headers }));
    const floorPort = Number(await listening(floor, /^floor listening on (\d+)$/m));

    const tetherTarget = { port, pid: server.pid ?? 0 };
    const floorTarget = { port: floorPort, pid: floor.pid ?? 0 };
    await measure(floorTarget, ca, requests, WARMUP_MS);
    await measure(tetherTarget, ca, requests, WARMUP_MS);
    const results = { tether: [] as Measured[], floor: [] as Measured[] };
    for (let round = 0; round < ROUNDS; round++) {
      results.floor.push(await measure(floorTarget, ca, requests, ROUND_MS));
      results.tether.push(await measure(tetherTarget, ca, requests, ROUND_MS));
    }
    const tether = combine(results.tether);
    const bare = combine(results.floor);
    if (tether.errors > 0) throw new Error(`${tether.errors} heartbeats were not 200 OK`);
    const t = summarize(tether.latencies);
    const f = summarize(bare.latencies);
    report(
      `heartbeat: ${MACHINES} machines (each onboarded through the API in ${onboardSeconds.toFixed(0)} s, tokens by client assertion in ${tokenSeconds.toFixed(0)} s; setup untimed), authenticated POST heartbeat, HTTPS keep-alive, ${CONNECTIONS} connections, ${ROUNDS}x${ROUND_MS / 1000} s per server, ${tether.requests} heartbeats (${cpus().length} CPUs, load ${loadavg()[0]?.toFixed(1) ?? '?'})`,
      [
        {
          metric: 'server CPU per heartbeat',
          value: round1((tether.cpuMs * 1000) / tether.requests),
          unit: 'µs',
          floor: round1((bare.cpuMs * 1000) / bare.requests),
          target: '<= 1.5x floor',
        },
        { metric: 'heartbeats/s', value: rate(tether), unit: 'req/s', floor: rate(bare) },
        { metric: 'latency p50', value: round2(t.p50), unit: 'ms', floor: round2(f.p50) },
        { metric: 'latency p99', value: round2(t.p99), unit: 'ms', floor: round2(f.p99) },
      ],
    );
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map(exited));
    await rm(root, { recursive: true, force: true });
  }
}

/** user + system CPU of a process so far, in milliseconds. */
function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

async function inParallel<T>(count: number, work: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array<T>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: SETUP_PARALLEL }, async () => {
      for (let i = next++; i < count; i = next++) out[i] = await work(i);
    }),
  );
  return out;
}

/**
 * CONNECTIONS keep-alive TLS connections, one heartbeat in flight on each, taking the machines
 * in turn for `ms`. Responses are framed by Content-Length only, to cost both servers alike.
 */
async function measure(
  target: { port: number; pid: number },
  ca: Buffer,
  requests: readonly Buffer[],
  ms: number,
): Promise<Measured> {
  const result: Measured = { requests: 0, errors: 0, ms: 0, cpuMs: 0, latencies: [] };
  let cursor = 0;
  const next = (): Buffer => {
    const r = requests[cursor] ?? Buffer.alloc(0);
    cursor = (cursor + 1) % requests.length;
    return r;
  };
  const cpuBefore = cpuMsOf(target.pid);
  const started = performance.now();
  const end = started + ms;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, () =>
      connection(target.port, ca, end, next, (status, latency) => {
        result.requests++;
        if (status !== 200) result.errors++;
        result.latencies.push(latency);
      }),
    ),
  );
  result.ms = performance.now() - started;
  result.cpuMs = cpuMsOf(target.pid) - cpuBefore;
  return result;
}

function connection(
  port: number,
  ca: Buffer,
  end: number,
  next: () => Buffer,
  done: (status: number, latency: number) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca, servername: 'localhost' });
    let buffer: Buffer = Buffer.alloc(0);
    let sentAt = 0;
    const send = (): void => {
      if (performance.now() >= end) {
        socket.end();
        resolve();
        return;
      }
      sentAt = performance.now();
      socket.write(next());
    };
    socket.setNoDelay(true);
    socket.once('secureConnect', send);
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      for (;;) {
        const headerEnd = buffer.indexOf('\r\n\r\n');
        if (headerEnd < 0) return;
        const head = buffer.subarray(0, headerEnd).toString('latin1');
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        const total = headerEnd + 4 + length;
        if (buffer.length < total) return;
        done(Number(head.slice(9, 12)), performance.now() - sentAt);
        buffer = buffer.subarray(total);
        send();
      }
    });
  });
}

/** One raw request on its own connection, to capture the answer the floor must mimic. */
function rawExchange(port: number, ca: Buffer, raw: Buffer): Promise<Answer> {
  const head = raw.subarray(0, raw.indexOf('\r\n\r\n')).toString('latin1');
  const [line = '', ...headerLines] = head.split('\r\n');
  const [method = 'POST', path = '/'] = line.split(' ');
  const headers = Object.fromEntries(
    headerLines.map((h) => [h.slice(0, h.indexOf(':')).toLowerCase(), h.slice(h.indexOf(':') + 2)]),
  );
  const agent = new Agent({ ca });
  return new Promise<Answer>((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method, path, agent, headers, servername: 'localhost' },
      (res) => collect(res, resolve),
    );
    req.on('error', reject);
    req.end(raw.subarray(raw.indexOf('\r\n\r\n') + 4));
  }).finally(() => agent.destroy());
}

function collect(res: IncomingMessage, resolve: (answer: Answer) => void): void {
  let text = '';
  res.setEncoding('utf8').on('data', (c: string) => (text += c));
  res.on('end', () => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(res.headers))
      if (typeof value === 'string') headers[name] = value;
    resolve({ status: res.statusCode ?? 0, text, headers });
  });
}

function httpsCall(
  agent: Agent,
  port: number,
  method: string,
  path: string,
  token: string | undefined,
  body?: unknown,
): Promise<Answer> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method,
        agent,
        servername: 'localhost',
        headers: {
          ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
        },
      },
      (res) => collect(res, resolve),
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function formToken(
  agent: Agent,
  port: number,
  tenantId: string,
  form: Record<string, string>,
): Promise<string> {
  const payload = new URLSearchParams(form).toString();
  const answer = await new Promise<Answer>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: `/${tenantId}/oauth2/v2.0/token`,
        method: 'POST',
        agent,
        servername: 'localhost',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      },
      (res) => collect(res, resolve),
    );
    req.on('error', reject);
    req.end(payload);
  });
  const token = (JSON.parse(answer.text) as { access_token?: unknown }).access_token;
  if (typeof token !== 'string') throw new Error(`no token: ${answer.status} ${answer.text}`);
  return token;
}

function combine(all: readonly Measured[]): Measured {
  return {
    requests: all.reduce((s, m) => s + m.requests, 0),
    errors: all.reduce((s, m) => s + m.errors, 0),
    ms: all.reduce((s, m) => s + m.ms, 0),
    cpuMs: all.reduce((s, m) => s + m.cpuMs, 0),
    latencies: all.flatMap((m) => m.latencies),
  };
}

function rate(m: Measured): number {
  return Math.round((m.requests * 1000) / m.ms);
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

/** The floor: node:https with Tether's certificate; parses each JSON body, answers Tether's bytes. */
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
      (req, res) => {
        let text = '';
        req.setEncoding('utf8').on('data', (c: string) => (text += c));
        req.on('end', () => {
          const parsed = JSON.parse(text) as Record<string, unknown>;
          res.writeHead(typeof parsed['agentVersion'] === 'string' ? 200 : 400, {
            ...headers,
            'content-length': body.length,
          });
          res.end(body);
        });
      },
    );
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      process.stdout.write(
        `floor listening on ${typeof address === 'object' && address !== null ? address.port : 0}\n`,
      );
    });
    process.on('SIGTERM', () => {
      server.closeAllConnections();
      server.close(() => process.exit(0));
    });
  });
}

if (
  process.argv[2] === '--floor' &&
  import.meta.url === pathToFileURL(process.argv[1] ?? '').href
) {
  serveFloor(process.argv[3] ?? '', process.argv[4] ?? '');
}
