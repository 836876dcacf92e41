// Push to a fleet: PUSH_BENCH_MACHINES (default 10,000) simulated agents wait for a change to
// their extension goal state from the real `tether server`; the operator PUTs one extension per
// machine (32 in flight) and each agent notes when the goal state it reads names the new
// operation: first PUT to last delivery, and the server's CPU per PUT + delivery.
// PUSH_BENCH_MODE says how the agents wait:
//   notices (default, what agents do): each machine holds its agent channel (a `ws` client over
//     TLS, one shared secure context for all) and, on a goalStateChanged frame for extensions,
//     fetches GET …/extensionGoalState (no `after`) over a pool of 64 keep-alive connections
//     the fleet shares, each taken in turn. A shared pool, not one each: 10,000 channels plus
//     10,000 idle connections would not fit the open-file limit of one process (20,000 here),
//     and an agent's own connection, idle between changes, would be closed by the server's
//     keep-alive timeout, so each fetch would add a TLS handshake that costs Tether and the
//     floor alike and only hides the difference between them.
//   long-poll: each machine holds GET …/extensionGoalState?after=<gen>&wait=60 on its own
//     keep-alive TLS connection, the fallback when no channel announces changes.
//   both: one mode after the other against the same fleet (the second's goal states also carry
//     the first's extension, on both servers).
// The floor, same run and same client: a bare node:https server (same certificate) with a bare
// `ws` server on its port, holding as many channels or polls; when a machine's "PUT" arrives it
// sends that machine's channel the notice or answers its held poll, and it answers every request
// with Tether's own bytes captured from a sample machine (its operation id, extension name and
// generation swapped in). PUSH_BENCH_ROUNDS (default 1) rounds per server, floor first.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import { WebSocketServer, type WebSocket } from 'ws';
import { AGENT_CHANNEL_SEGMENT } from '@tether/protocol';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dataDirPaths } from '@tether/control-plane/server/data-dir';
import { handlerManifestOf } from '@tether/extensions/handler-packages';
import { makePublisherKey, publishPackage } from '../extension-publisher.js';
import {
  LongPollFleet,
  type GoalStateAnswer,
  type PollingMachine,
  type PushFleet,
} from '../long-poll-fleet.js';
import { NoticeFleet, openChannel } from '../notice-fleet.js';
import { goalStateTemplate, goalStateText } from '../goal-state-template.js';
import {
  inParallel,
  onboardFleet,
  startTetherServer,
  TetherApi,
  V,
  type Answer,
} from '../machine-fleet.js';
import { serveFloorUntilTerminated } from '../floor-server.js';
import { report, summarize } from '../stats.js';
import { exited, listening } from '../tether-process.js';

const REQUESTED = Number(process.env['PUSH_BENCH_MACHINES'] ?? 10_000);
const ROUNDS = Number(process.env['PUSH_BENCH_ROUNDS'] ?? 1);
const MODES = ['notices', 'long-poll'] as const;
type Mode = (typeof MODES)[number];
const PUT_PARALLEL = 32;
/** The keep-alive connections a fleet's fetches share in notice mode. */
const FETCH_CONNECTIONS = 64;
const WAIT_SECONDS = 60;
const DELIVERY_TIMEOUT_MS = 120_000;
/** Descriptors besides the channels or polls: fetch pool, API client, database, logs, pipes. */
const FD_HEADROOM = 256 + FETCH_CONNECTIONS;
const PACKAGE = { publisher: 'Tether.Bench', type: 'PushProbe', version: '1.0.0' } as const;
const SAMPLE_EXTENSION = 'PushSample';
/** Every PUT's body: the probe extension, the same settings each time. */
const PUT_BODY = {
  location: 'westeurope',
  properties: {
    publisher: PACKAGE.publisher,
    type: PACKAGE.type,
    typeHandlerVersion: '1.0',
    settings: { probe: true },
  },
} as const;
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

interface Target {
  readonly label: 'tether' | 'floor';
  readonly port: number;
  readonly pid: number;
}

interface RoundResult {
  /** First PUT sent to last delivery. */
  totalMs: number;
  /** Per machine: its PUT's 201 to its poll's answer. */
  fromAccepted: number[];
  /** Per machine: its PUT sent to its poll's answer. */
  fromSent: number[];
  /** Per machine: PUT sent to 201. */
  putMs: number[];
  serverCpuMs: number;
  /** Server resident memory while holding every poll, MiB. */
  rssMiB: number;
  deliveries: number;
}

/** What the floor answers: Tether's own bytes for each request shape. */
export interface FloorScript {
  initial: Answer;
  put: Answer;
  /** The held poll's answer once the PUT is made. */
  delivery: Answer;
  /** The goal state fetched (no `after`) once the PUT is made. */
  fetched: Answer;
  /** The channel's first frame, and the frame that announced the PUT. */
  hello: string;
  notice: string;
  /** The operation id in `put`, `delivery` and `fetched`, replaced by a fresh one per PUT. */
  operationId: string;
  /** The extension name in `put`, `delivery` and `fetched`, replaced by the one each PUT names. */
  extension: string;
}

/** The modes PUSH_BENCH_MODE names: one of MODES, or `both`. */
export function modesOf(value: string | undefined): Mode[] {
  if (value === undefined || value === '') return ['notices'];
  if (value === 'both') return [...MODES];
  if ((MODES as readonly string[]).includes(value)) return [value as Mode];
  throw new Error(
    `PUSH_BENCH_MODE=${value} is not a mode: notices (the default), long-poll or both`,
  );
}

export async function run(): Promise<void> {
  const modes = modesOf(process.env['PUSH_BENCH_MODE']);
  const root = await mkdtemp(join(tmpdir(), 'tether-push-bench-'));
  const dataDir = join(root, 'data');
  const children: ChildProcess[] = [];
  const fleets: PushFleet[] = [];
  try {
    const fdLimit = openFileLimit();
    const machineCount = Math.max(1, Math.min(REQUESTED, fdLimit - FD_HEADROOM));
    const nodeFlags = (process.env['PUSH_BENCH_NODE_FLAGS'] ?? '').split(' ').filter(Boolean);
    const server = await startTetherServer(dataDir, nodeFlags, children);
    const { install, ca, url, port } = server;
    const api = new TetherApi(url, port, ca, PUT_PARALLEL);
    const admin = await api.adminToken(install);
    const group = `/subscriptions/${install.subscriptionId}/resourceGroups/bench`;
    await api.call('PUT', `${group}?api-version=2021-04-01`, admin, { location: 'westeurope' });

    // Setup, not timed: a tiny package (agents are simulated: nothing runs it), the fleet, and
    // one more machine whose answers the floor replays.
    const cli = { install, url, configDir: join(root, 'cli') };
    const packageDir = join(root, 'package');
    await mkdir(packageDir);
    await mkdir(join(root, 'keys'));
    await writeFile(
      join(packageDir, 'HandlerManifest.json'),
      JSON.stringify(handlerManifestOf((verb) => `./probe.sh ${verb}`)),
    );
    await writeFile(join(packageDir, 'probe.sh'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const key = await makePublisherKey(cli, join(root, 'keys'));
    await publishPackage(cli, key, { ...PACKAGE, dir: packageDir });
    const fleet = await onboardFleet(api, install, admin, group, machineCount + 1);
    progress(
      `${machineCount + 1} machines onboarded in ${fleet.onboardSeconds.toFixed(0)} s, tokens in ${fleet.tokenSeconds.toFixed(0)} s`,
    );
    const machinePath = (name: string): string =>
      `${group}/providers/Microsoft.HybridCompute/machines/${name}`;
    const all = fleet.machines.map((m) => ({ path: machinePath(m.name), token: m.token }));
    const sampleMachine = all.pop() as PollingMachine;
    const script = await captureScript(api, port, ca, sampleMachine, admin);

    const tls = dataDirPaths(dataDir).tls;
    const floorChild = spawn(
      process.execPath,
      [fileURLToPath(import.meta.url), '--floor', join(tls, 'server.crt'), join(tls, 'server.key')],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    children.push(floorChild);
    floorChild.stdin.end(JSON.stringify(script));
    const floorPort = Number(await listening(floorChild, /^floor listening on (\d+)$/m));

    const tether: Target = { label: 'tether', port, pid: server.child.pid ?? 0 };
    const floor: Target = { label: 'floor', port: floorPort, pid: floorChild.pid ?? 0 };
    const measured: { mode: Mode; results: Record<Target['label'], RoundResult[]> }[] = [];
    for (const mode of modes) {
      const results: Record<Target['label'], RoundResult[]> = { tether: [], floor: [] };
      for (let round = 0; round < ROUNDS; round++) {
        for (const target of [floor, tether]) {
          const extension = `PushProbe${mode === 'notices' ? 'Notice' : 'Poll'}${round}`;
          const waiting: PushFleet =
            mode === 'notices'
              ? new NoticeFleet(all, {
                  port: target.port,
                  ca,
                  fetchConnections: FETCH_CONNECTIONS,
                  extension,
                })
              : new LongPollFleet(all, {
                  port: target.port,
                  ca,
                  waitSeconds: WAIT_SECONDS,
                  extension,
                });
          fleets.push(waiting);
          results[target.label].push(
            await pushRound(target, mode, waiting, all, admin, ca, extension),
          );
          waiting.close();
        }
      }
      measured.push({ mode, results });
    }
    api.destroy();

    const limited =
      machineCount < REQUESTED
        ? ` LIMITED to ${machineCount} of ${REQUESTED} requested by the open-file limit ${fdLimit};`
        : '';
    for (const { mode, results } of measured) {
      const how =
        mode === 'notices'
          ? `each holding its agent channel and fetching GET …/extensionGoalState when told it changed, over ${FETCH_CONNECTIONS} shared keep-alive TLS connections`
          : `each holding GET …/extensionGoalState?after=<gen>&wait=${WAIT_SECONDS} on its own keep-alive TLS connection`;
      reportMode(
        `extension-push (${mode}): ${machineCount} simulated agents, ${how};${limited} ` +
          `the operator PUTs one extension per machine, ${PUT_PARALLEL} in flight, ${ROUNDS} round(s) per server, floor first ` +
          `(setup untimed: onboarding ${fleet.onboardSeconds.toFixed(0)} s, tokens ${fleet.tokenSeconds.toFixed(0)} s; ${cpus().length} CPUs, load ${loadavg()[0]?.toFixed(1) ?? '?'})`,
        mode,
        machineCount,
        results,
      );
    }
  } finally {
    for (const polls of fleets) polls.close();
    for (const child of children) child.kill('SIGTERM');
    // A server still draining thousands of closed polls may take its time: not forever.
    const kill = setTimeout(() => children.forEach((child) => child.kill('SIGKILL')), 15_000);
    await Promise.all(children.map(exited));
    clearTimeout(kill);
    await rm(root, { recursive: true, force: true });
  }
}

/** One mode's table: its rounds on Tether beside the floor's. */
function reportMode(
  title: string,
  mode: Mode,
  machineCount: number,
  results: Record<Target['label'], RoundResult[]>,
): void {
  const t = combine(results.tether);
  const f = combine(results.floor);
  const tl = summarize(t.fromAccepted);
  const fl = summarize(f.fromAccepted);
  const ts = summarize(t.fromSent);
  const fs = summarize(f.fromSent);
  const tp = summarize(t.putMs);
  const fp = summarize(f.putMs);
  report(title, [
    {
      metric: 'first PUT to last delivery',
      value: round2(t.totalMs / 1000),
      unit: 's',
      floor: round2(f.totalMs / 1000),
    },
    { metric: 'deliveries/s', value: rate(t), unit: '/s', floor: rate(f) },
    {
      metric: 'PUT 201 -> delivery p50',
      value: round2(tl.p50),
      unit: 'ms',
      floor: round2(fl.p50),
    },
    {
      metric: 'PUT 201 -> delivery p99',
      value: round2(tl.p99),
      unit: 'ms',
      floor: round2(fl.p99),
    },
    {
      metric: 'PUT sent -> delivery p50',
      value: round2(ts.p50),
      unit: 'ms',
      floor: round2(fs.p50),
    },
    {
      metric: 'PUT sent -> delivery p99',
      value: round2(ts.p99),
      unit: 'ms',
      floor: round2(fs.p99),
    },
    { metric: 'PUT sent -> 201 p50', value: round2(tp.p50), unit: 'ms', floor: round2(fp.p50) },
    { metric: 'PUT sent -> 201 p99', value: round2(tp.p99), unit: 'ms', floor: round2(fp.p99) },
    {
      metric: 'server CPU per PUT + delivery',
      value: Math.round((t.serverCpuMs * 1000) / t.deliveries),
      unit: 'µs',
      floor: Math.round((f.serverCpuMs * 1000) / f.deliveries),
    },
    {
      metric: `server RSS holding ${machineCount} ${mode === 'notices' ? 'channels' : 'polls'}`,
      value: Math.round(Math.max(...results.tether.map((r) => r.rssMiB))),
      unit: 'MiB',
      floor: Math.round(Math.max(...results.floor.map((r) => r.rssMiB))),
    },
  ]);
}

/** One timed push: arm every channel or poll (untimed), then PUT one extension per machine. */
async function pushRound(
  target: Target,
  mode: Mode,
  polls: PushFleet,
  machines: readonly PollingMachine[],
  admin: string,
  ca: Buffer,
  extension: string,
): Promise<RoundResult> {
  const arming = performance.now();
  await polls.arm();
  progress(
    `${target.label}: ${machines.length} ${mode === 'notices' ? 'channels' : 'long polls'} held after ${((performance.now() - arming) / 1000).toFixed(0)} s`,
  );
  // Let the server take the last channels or polls in before the clock starts.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const rssMiB = rssMiBOf(target.pid);
  const api = new TetherApi('', target.port, ca, PUT_PARALLEL);
  const sent = new Array<number>(machines.length);
  const accepted = new Array<number>(machines.length);
  const operations = new Array<string>(machines.length);
  const cpuBefore = cpuMsOf(target.pid);
  const started = performance.now();
  await inParallel(
    machines.length,
    async (i) => {
      const m = machines[i] as PollingMachine;
      sent[i] = performance.now();
      const answer = await api.call(
        'PUT',
        `${m.path}/extensions/${extension}?${V}`,
        admin,
        PUT_BODY,
      );
      accepted[i] = performance.now();
      if (answer.status !== 201) {
        throw new Error(
          `${target.label}: PUT ${extension} answered ${answer.status}: ${answer.text}`,
        );
      }
      operations[i] = operationIdOf(answer);
    },
    PUT_PARALLEL,
  );
  await polls.delivered(DELIVERY_TIMEOUT_MS);
  progress(`${target.label}: delivered in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const serverCpuMs = cpuMsOf(target.pid) - cpuBefore;
  api.destroy();
  let last = started;
  const fromAccepted: number[] = [];
  const fromSent: number[] = [];
  const putMs: number[] = [];
  polls.deliveries.forEach((d, i) => {
    if (d === undefined) throw new Error(`${target.label}: machine ${i} had no delivery`);
    if (d.operationId !== operations[i]) {
      throw new Error(
        `${target.label}: machine ${i}'s goal state delivered operation ${d.operationId}, its PUT started ${operations[i]}`,
      );
    }
    last = Math.max(last, d.at);
    fromAccepted.push(d.at - (accepted[i] ?? 0));
    fromSent.push(d.at - (sent[i] ?? 0));
    putMs.push((accepted[i] ?? 0) - (sent[i] ?? 0));
  });
  return {
    totalMs: last - started,
    fromAccepted,
    fromSent,
    putMs,
    serverCpuMs,
    rssMiB,
    deliveries: machines.length,
  };
}

/**
 * The sample machine, holding its channel: the channel's hello, its first goal state, a PUT, the
 * notice that announces it, and the goal state that delivers it, both fetched and long-polled.
 */
async function captureScript(
  api: TetherApi,
  port: number,
  ca: Buffer,
  machine: PollingMachine,
  admin: string,
): Promise<FloorScript> {
  const channel = await openSampleChannel(port, ca, machine);
  try {
    const hello = await channel.next();
    const goalState = `${machine.path}/extensionGoalState?${V}`;
    const initial = await api.call('GET', goalState, machine.token);
    if (initial.status !== 200) throw new Error(`goal state: ${initial.status} ${initial.text}`);
    const generation = (JSON.parse(initial.text) as GoalStateAnswer).generation;
    const put = await api.call(
      'PUT',
      `${machine.path}/extensions/${SAMPLE_EXTENSION}?${V}`,
      admin,
      PUT_BODY,
    );
    if (put.status !== 201) throw new Error(`PUT extension: ${put.status} ${put.text}`);
    const notice = await channel.next();
    const { type, service } = JSON.parse(notice) as { type?: unknown; service?: unknown };
    if (type !== 'goalStateChanged' || service !== 'extensions') {
      throw new Error(`the channel did not announce the PUT: ${notice}`);
    }
    const fetched = await api.call('GET', goalState, machine.token);
    const delivery = await api.call(
      'GET',
      `${goalState}&after=${generation}&wait=${WAIT_SECONDS}`,
      machine.token,
    );
    const operationId = operationIdOf(put);
    for (const [what, answer] of [
      ['fetch', fetched],
      ['long poll', delivery],
    ] as const) {
      if (answer.status !== 200) throw new Error(`${what}: ${answer.status} ${answer.text}`);
      if (!answer.text.includes(operationId)) {
        throw new Error(`the ${what} did not deliver operation ${operationId}: ${answer.text}`);
      }
    }
    return {
      initial,
      put,
      delivery,
      fetched,
      hello,
      notice,
      operationId,
      extension: SAMPLE_EXTENSION,
    };
  } finally {
    channel.ws.terminate();
  }
}

/** The sample machine's agent channel, its text frames read one at a time. */
async function openSampleChannel(
  port: number,
  ca: Buffer,
  machine: PollingMachine,
): Promise<{ ws: WebSocket; next: () => Promise<string> }> {
  const ws = openChannel(port, machine, { ca });
  const frames: string[] = [];
  let waiter: ((frame: string) => void) | undefined;
  ws.on('message', (data: Buffer) => {
    const text = data.toString('utf8');
    if (waiter === undefined) frames.push(text);
    else {
      const w = waiter;
      waiter = undefined;
      w(text);
    }
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_request, response) =>
      reject(new Error(`the sample machine's channel was refused: ${response.statusCode ?? 0}`)),
    );
    ws.once('error', reject);
  });
  const next = (): Promise<string> => {
    const queued = frames.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error("no frame on the sample machine's channel within 10 s")),
        10_000,
      );
      waiter = (frame) => {
        clearTimeout(timer);
        resolve(frame);
      };
    });
  };
  return { ws, next };
}

function operationIdOf(answer: Answer): string {
  const header = answer.headers['azure-asyncoperation'];
  if (header === undefined) throw new Error(`no Azure-AsyncOperation header: ${answer.text}`);
  const id = new URL(header).pathname.split('/').pop();
  if (id === undefined || id === '') throw new Error(`no operation id in ${header}`);
  return id;
}

/** Where the run is, on stderr: the setup of a large fleet takes minutes. */
function progress(line: string): void {
  process.stderr.write(`[extension-push] ${line}\n`);
}

/** The soft limit on open files this process and its children inherit. */
function openFileLimit(): number {
  const text = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
  return text === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(text);
}

function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

function rssMiBOf(pid: number): number {
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kib ?? 0) / 1024;
}

function combine(all: readonly RoundResult[]): RoundResult {
  return {
    totalMs: all.reduce((s, r) => s + r.totalMs, 0),
    fromAccepted: all.flatMap((r) => r.fromAccepted),
    fromSent: all.flatMap((r) => r.fromSent),
    putMs: all.flatMap((r) => r.putMs),
    serverCpuMs: all.reduce((s, r) => s + r.serverCpuMs, 0),
    rssMiB: Math.max(...all.map((r) => r.rssMiB)),
    deliveries: all.reduce((s, r) => s + r.deliveries, 0),
  };
}

function rate(r: RoundResult): number {
  return Math.round((r.deliveries * 1000) / r.totalMs);
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

/**
 * The floor: node:https with Tether's certificate and none of its logic, and a bare `ws` server
 * on its port that takes each machine's channel and says hello with Tether's frame. A goal-state
 * GET with `after` equal to the machine's generation is held (up to `wait`), any other answers at
 * once; a PUT answers 201 with Tether's bytes, then sends its machine's channel Tether's notice
 * and answers its machine's held poll.
 */
function serveFloor(certFile: string, keyFile: string): void {
  let input = '';
  process.stdin.setEncoding('utf8').on('data', (c: string) => (input += c));
  process.stdin.on('end', () => {
    const script = JSON.parse(input) as FloorScript;
    const sample = { extension: script.extension, operationId: script.operationId };
    const fetchedTemplate = goalStateTemplate(script.fetched.text, script.extension);
    const deliveryTemplate = goalStateTemplate(script.delivery.text, script.extension);
    const headersOf = (answer: Answer): Record<string, string> =>
      Object.fromEntries(
        Object.entries(answer.headers).filter(
          ([name]) => !['date', 'connection', 'keep-alive', 'content-length'].includes(name),
        ),
      );
    const generations = new Map<string, number>();
    const held = new Map<string, { res: ServerResponse; timer: NodeJS.Timeout }>();
    const channels = new Map<string, WebSocket>();
    const base = (JSON.parse(script.initial.text) as GoalStateAnswer).generation;
    /** Per machine, extension → its operation id, in the order they were PUT. */
    const operations = new Map<string, Map<string, string>>();
    const send = (res: ServerResponse, status: number, answer: Answer, text: string): void => {
      const body = Buffer.from(text);
      res.writeHead(status, { ...headersOf(answer), 'content-length': body.length });
      res.end(body);
    };
    const answerGoalState = (res: ServerResponse, machine: string, polled: boolean): void => {
      const carried = operations.get(machine);
      if (carried === undefined) {
        send(res, 200, script.initial, script.initial.text);
        return;
      }
      const answer = polled ? script.delivery : script.fetched;
      const template = polled ? deliveryTemplate : fetchedTemplate;
      const generation = generations.get(machine) ?? base;
      send(res, 200, answer, goalStateText(template, sample, generation, carried));
    };
    const server = createServer(
      {
        cert: readFileSync(certFile),
        key: readFileSync(keyFile),
        keepAliveTimeout: 72_000,
        requestTimeout: 0,
      },
      (req, res) => {
        const url = new URL(req.url ?? '/', 'https://localhost');
        const machine = /\/machines\/([^/]+)/.exec(url.pathname)?.[1] ?? '';
        if (req.method === 'GET' && url.pathname.endsWith('/extensionGoalState')) {
          const after = url.searchParams.get('after');
          const generation = generations.get(machine) ?? base;
          if (after === null || Number(after) !== generation) {
            answerGoalState(res, machine, after !== null);
            return;
          }
          const wait = Number(url.searchParams.get('wait') ?? 50) * 1000;
          const timer = setTimeout(() => {
            held.delete(machine);
            answerGoalState(res, machine, true);
          }, wait);
          held.set(machine, { res, timer });
          res.once('close', () => {
            clearTimeout(timer);
            if (held.get(machine)?.res === res) held.delete(machine);
          });
          return;
        }
        if (req.method === 'PUT') {
          let text = '';
          req.setEncoding('utf8').on('data', (c: string) => (text += c));
          req.on('end', () => {
            const parsed = JSON.parse(text) as { properties?: { publisher?: unknown } };
            if (typeof parsed.properties?.publisher !== 'string') {
              res.writeHead(400).end();
              return;
            }
            const id = randomUUID();
            const extension = /\/extensions\/([^/]+)$/.exec(url.pathname)?.[1] ?? '';
            const generation = (generations.get(machine) ?? base) + 1;
            const carried = operations.get(machine) ?? new Map<string, string>();
            carried.set(extension, id);
            operations.set(machine, carried);
            generations.set(machine, generation);
            const put = script.put.text
              .split(script.operationId)
              .join(id)
              .split(`"${script.extension}"`)
              .join(`"${extension}"`);
            const headers = headersOf(script.put);
            const location = headers['azure-asyncoperation'];
            if (location !== undefined) {
              headers['azure-asyncoperation'] = location.split(script.operationId).join(id);
            }
            const body = Buffer.from(put);
            res.writeHead(201, { ...headers, 'content-length': body.length });
            res.end(body);
            channels.get(machine)?.send(script.notice);
            const poll = held.get(machine);
            if (poll !== undefined) {
              held.delete(machine);
              clearTimeout(poll.timer);
              answerGoalState(poll.res, machine, true);
            }
          });
          return;
        }
        res.writeHead(404).end();
      },
    );
    server.maxConnections = Number.MAX_SAFE_INTEGER;
    const upgrades = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
    });
    server.on('upgrade', (request, socket, head: Buffer) => {
      const path = new URL(request.url ?? '/', 'https://localhost').pathname;
      const machine = new RegExp(`/machines/([^/]+)/${AGENT_CHANNEL_SEGMENT}$`).exec(path)?.[1];
      if (machine === undefined) {
        socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n');
        return;
      }
      upgrades.handleUpgrade(request, socket, head, (ws) => {
        ws.on('error', () => undefined);
        ws.on('close', () => {
          if (channels.get(machine) === ws) channels.delete(machine);
        });
        channels.set(machine, ws);
        ws.send(script.hello);
      });
    });
    serveFloorUntilTerminated(server);
  });
}

if (
  process.argv[2] === '--floor' &&
  import.meta.url === pathToFileURL(process.argv[1] ?? '').href
) {
  serveFloor(process.argv[3] ?? '', process.argv[4] ?? '');
}
