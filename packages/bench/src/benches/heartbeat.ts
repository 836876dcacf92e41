// Authenticated heartbeats from 10,000 machines against the real `tether server`, as frames over
// each machine's agent channel (a WebSocket, what agents use) and as POSTs over HTTPS keep-alive:
// server CPU time per heartbeat (from /proc/<pid>/stat) and heartbeats/s, beside two floors in
// one process: a bare node:https server that parses the same JSON body and answers same-size
// bytes, and a bare `ws` server on node:https that parses the same frame and acks it with the
// same answer over as many channels. Heartbeats
// repeating a machine's report are appended to the liveness log, which the server folds into the
// machines' rows in the background; after the rounds the bench stops the server and folds what
// is left itself, to show what the fold costs per machine and per heartbeat it folds.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, createServer, request } from 'node:https';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { foldLivenessLog } from '@tether/control-plane/machines/liveness-log';
import { dataDirPaths } from '@tether/control-plane/server/data-dir';
import { openDatabase } from '@tether/control-plane/store/open-database';
import {
  collect,
  onboardFleet,
  startTetherServer,
  TetherApi,
  V,
  type Answer,
} from '../machine-fleet.js';
import { exited, listening } from '../tether-process.js';
import { serveFloorUntilTerminated } from '../floor-server.js';
import { report } from '../stats.js';
import { fdLimits } from '../fleet/cluster.js';
import {
  combine,
  cpuPerRequest,
  rate,
  latencyRows,
  measure,
  type LoadTarget,
  type Measured,
  type Schedule,
} from '../keep-alive-load.js';
import { DEFAULT_AGENT_CONFIGURATION } from '@tether/protocol';
import { WebSocketServer } from 'ws';
import {
  closeChannels,
  measureFrames,
  openChannels,
  type ChannelSpec,
  type OpenChannel,
} from '../channel-load.js';

const REQUESTED = Number(process.env['HEARTBEAT_BENCH_MACHINES'] ?? 10_000);
/** Descriptors besides the channels: keep-alive connections to both servers, API, pipes, logs. */
const FD_HEADROOM = 512;
/**
 * This process holds each machine's channel to Tether and to the floor at once: as many machines
 * as twice that fits its open-file limit.
 */
const MACHINES = Math.max(1, Math.min(REQUESTED, Math.floor((fdLimits()[0] - FD_HEADROOM) / 2)));
// Short rounds, many of them, alternating: the shared machine's slow spells fall on both sides.
const SCHEDULE: Schedule = {
  connections: 64,
  warmupMs: 2_000,
  roundMs: 2_500,
  rounds: Number(process.env['HEARTBEAT_BENCH_ROUNDS'] ?? 6),
};

export async function run(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'tether-bench-'));
  const dataDir = join(root, 'data');
  const children: ChildProcess[] = [];
  try {
    // HEARTBEAT_BENCH_NODE_FLAGS="--cpu-prof --cpu-prof-dir=DIR" profiles the server.
    const nodeFlags = (process.env['HEARTBEAT_BENCH_NODE_FLAGS'] ?? '').split(' ').filter(Boolean);
    const {
      install,
      ca,
      url,
      port,
      child: server,
    } = await startTetherServer(dataDir, nodeFlags, children);
    const api = new TetherApi(url, port, ca);
    const admin = await api.adminToken(install);
    const group = `/subscriptions/${install.subscriptionId}/resourceGroups/bench`;
    await api.call('PUT', `${group}?api-version=2021-04-01`, admin, { location: 'westeurope' });

    // Setup, not timed: every machine onboarded through the API with its own P-256 key, then
    // each machine's token through the token endpoint with its assertion.
    const { machines, onboardSeconds, tokenSeconds } = await onboardFleet(
      api,
      install,
      admin,
      group,
      MACHINES,
    );
    api.destroy();
    const bodies = machines.map((m) =>
      JSON.stringify({
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
        agentConfiguration: DEFAULT_AGENT_CONFIGURATION,
      }),
    );
    const requests = machines.map((m, i) => {
      const body = bodies[i] ?? '';
      return Buffer.from(
        `POST ${group}/providers/Microsoft.HybridCompute/machines/${m.name}/heartbeat?${V} HTTP/1.1\r\n` +
          `Host: 127.0.0.1:${port}\r\nAuthorization: Bearer ${m.token}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: keep-alive\r\n\r\n${body}`,
      );
    });

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

    let cursor = 0;
    const next = (): Buffer => {
      const r = requests[cursor] ?? Buffer.alloc(0);
      cursor = (cursor + 1) % requests.length;
      return r;
    };
    const target = { port, pid: server.pid ?? 0 };
    // Each machine's first heartbeat after onboarding gives its row the report it keeps from
    // then on: part of onboarding, like the token, so it is setup and not timed.
    const firstPassStarted = performance.now();
    let sent = 0;
    const firstPass = (): Buffer => {
      sent++;
      return next();
    };
    while (sent < requests.length) {
      const pass = await measure(target, ca, SCHEDULE.connections, firstPass, 500);
      if (pass.errors > 0) throw new Error(`${pass.errors} first heartbeats were not 200 OK`);
    }
    const firstPassSeconds = (performance.now() - firstPassStarted) / 1000;
    // Every machine's channel, to Tether and to the floor: setup, not timed.
    const specs: ChannelSpec[] = machines.map((m, i) => ({
      path: `${group}/providers/Microsoft.HybridCompute/machines/${m.name}/agentChannel?${V}`,
      token: m.token,
      body: bodies[i] ?? '',
    }));
    const channelsStarted = performance.now();
    const tetherChannels = await openChannels(port, ca, specs);
    const floorChannels = await openChannels(floorPort, ca, specs);
    const channelSeconds = (performance.now() - channelsStarted) / 1000;
    const floorTarget = { port: floorPort, pid: floor.pid ?? 0 };
    const {
      tether,
      floor: bare,
      channel,
      wsFloor,
    } = await compareAll(
      target,
      floorTarget,
      ca,
      next,
      { tether: tetherChannels, floor: floorChannels },
      SCHEDULE,
    );
    closeChannels(tetherChannels);
    closeChannels(floorChannels);
    if (channel.errors > 0) throw new Error(`${channel.errors} heartbeat frames were not acked`);
    if (tether.errors > 0) throw new Error(`${tether.errors} heartbeats were not 200 OK`);
    server.kill('SIGTERM');
    await exited(server);
    const fold = await foldLeftOver(dataDir);
    const perHeartbeat = cpuPerRequest(tether);
    const perFrame = cpuPerRequest(channel);
    const foldShare = fold.entries === 0 ? 0 : fold.cpuMicros / fold.entries;
    report(
      `heartbeat: ${MACHINES} machines${MACHINES < REQUESTED ? ` (LIMITED from ${REQUESTED} by this process's open-file limit, ${fdLimits()[0]}: it holds two channels per machine)` : ''} (each onboarded through the API in ${onboardSeconds.toFixed(0)} s, tokens by client assertion in ${tokenSeconds.toFixed(0)} s, each machine's first heartbeat in ${firstPassSeconds.toFixed(0)} s, its channel to Tether and to the floor opened in ${channelSeconds.toFixed(0)} s; setup untimed), authenticated heartbeats as frames over ${MACHINES} agent channels and as POSTs over ${SCHEDULE.connections} HTTPS keep-alive connections, ${SCHEDULE.connections} in flight, ${SCHEDULE.rounds}x${SCHEDULE.roundMs / 1000} s per server and way, ${channel.requests} frames and ${tether.requests} POSTs (${cpus().length} CPUs, load ${loadavg()[0]?.toFixed(1) ?? '?'})`,
      [
        {
          metric: 'server CPU per heartbeat, agent channel',
          value: perFrame,
          unit: 'µs',
          floor: cpuPerRequest(bare),
          target: '<= 1.5x floor',
        },
        {
          metric: 'server CPU per heartbeat, agent channel, against a bare ws server',
          value: perFrame,
          unit: 'µs',
          floor: cpuPerRequest(wsFloor),
        },
        {
          metric: 'server CPU per heartbeat, POST',
          value: perHeartbeat,
          unit: 'µs',
          floor: cpuPerRequest(bare),
        },
        {
          metric: `liveness fold, CPU per machine (${fold.machines} machines, ${fold.entries} entries left after the rounds)`,
          value: fold.cpuMicros === 0 ? 0 : round1(fold.cpuMicros / fold.machines),
          unit: 'µs',
        },
        {
          // Each heartbeat's share of the fold that moved it into its row. At the default
          // 5-minute interval and a fold every minute a machine has one entry per fold, so its
          // share is the whole per-machine figure above; here machines beat faster than that.
          metric: 'server CPU per heartbeat with its share of the fold, agent channel',
          value: round1(perFrame + foldShare),
          unit: 'µs',
          floor: cpuPerRequest(bare),
        },
        {
          metric: 'server CPU per heartbeat with its share of the fold, POST',
          value: round1(perHeartbeat + foldShare),
          unit: 'µs',
          floor: cpuPerRequest(bare),
        },
        {
          metric: 'heartbeats/s, agent channel (floor: bare ws)',
          value: rate(channel),
          unit: 'req/s',
          floor: rate(wsFloor),
        },
        { metric: 'heartbeats/s, POST', value: rate(tether), unit: 'req/s', floor: rate(bare) },
        ...latencyRows(channel, wsFloor).map((row) => ({
          ...row,
          metric: `${row.metric}, agent channel (floor: bare ws)`,
        })),
        ...latencyRows(tether, bare).map((row) => ({ ...row, metric: `${row.metric}, POST` })),
      ],
    );
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map(exited));
    await rm(root, { recursive: true, force: true });
  }
}

/**
 * Both ways against their floors, warmed up, then measured in alternating rounds (each floor
 * just before its Tether counterpart) so that a noisy neighbour weighs on all alike.
 */
async function compareAll(
  tether: LoadTarget,
  floor: LoadTarget,
  ca: Buffer,
  next: () => Buffer,
  channels: { tether: readonly OpenChannel[]; floor: readonly OpenChannel[] },
  schedule: Schedule,
): Promise<{ tether: Measured; floor: Measured; channel: Measured; wsFloor: Measured }> {
  const { connections, warmupMs, roundMs, rounds } = schedule;
  await measure(floor, ca, connections, next, warmupMs);
  await measure(tether, ca, connections, next, warmupMs);
  await measureFrames(floor, channels.floor, connections, warmupMs);
  await measureFrames(tether, channels.tether, connections, warmupMs);
  const all = {
    tether: [] as Measured[],
    floor: [] as Measured[],
    channel: [] as Measured[],
    wsFloor: [] as Measured[],
  };
  for (let round = 0; round < rounds; round++) {
    all.wsFloor.push(await measureFrames(floor, channels.floor, connections, roundMs));
    all.channel.push(await measureFrames(tether, channels.tether, connections, roundMs));
    all.floor.push(await measure(floor, ca, connections, next, roundMs));
    all.tether.push(await measure(tether, ca, connections, next, roundMs));
  }
  return {
    tether: combine(all.tether),
    floor: combine(all.floor),
    channel: combine(all.channel),
    wsFloor: combine(all.wsFloor),
  };
}

/**
 * Folds the liveness log of the stopped server's database in this process, as the server does,
 * and measures this process's CPU time for it.
 */
async function foldLeftOver(
  dataDir: string,
): Promise<{ machines: number; entries: number; cpuMicros: number }> {
  const db = await openDatabase({ kind: 'sqlite', file: dataDirPaths(dataDir).database });
  try {
    const counted = await db
      .selectFrom('liveness_log')
      .select((eb) => [
        eb.fn.countAll<number>().as('entries'),
        eb.fn.count<number>('machine_id').distinct().as('machines'),
      ])
      .executeTakeFirstOrThrow();
    const before = process.cpuUsage();
    await foldLivenessLog(db);
    const used = process.cpuUsage(before);
    return {
      machines: Number(counted.machines),
      entries: Number(counted.entries),
      cpuMicros: used.user + used.system,
    };
  } finally {
    await db.destroy();
  }
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
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

/**
 * The floors, in one process: node:https with Tether's certificate, which parses each JSON body
 * and answers Tether's bytes; and on the same server a bare `ws` server, which parses each frame
 * and acks it with Tether's answer body.
 */
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
    const ack = (id: unknown): string =>
      `{"type":"ack","id":${Number(id)},"status":200,"body":${sample.body}}`;
    new WebSocketServer({ server, perMessageDeflate: false, maxPayload: 1024 * 1024 + 64 }).on(
      'connection',
      (ws) => {
        ws.on('message', (data: Buffer) => {
          const frame = JSON.parse(data.toString('utf8')) as {
            id?: unknown;
            body?: Record<string, unknown>;
          };
          ws.send(
            typeof frame.body?.['agentVersion'] === 'string'
              ? ack(frame.id)
              : `{"type":"error","id":${Number(frame.id)},"status":400,"error":{"code":"InvalidRequestContent","message":"no agentVersion"}}`,
          );
        });
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
