// Push to a fleet: PUSH_BENCH_MACHINES (default 10,000) simulated agents each hold the goal-state
// long poll on its own keep-alive TLS connection to the real `tether server`; the operator PUTs
// one extension per machine (32 in flight) and each agent notes when its poll answers with the
// new operation. The floor, same run: a bare node:https server (same certificate) holding as
// many polls and answering each when its machine's "PUT" arrives, driven the same way.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dataDirPaths } from '@tether/control-plane/server/data-dir';
import { handlerManifestOf } from '@tether/extensions/handler-packages';
import { makePublisherKey, publishPackage } from '../extension-publisher.js';
import { LongPollFleet, type GoalStateAnswer, type PollingMachine } from '../long-poll-fleet.js';
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
const PUT_PARALLEL = 32;
const WAIT_SECONDS = 60;
const DELIVERY_TIMEOUT_MS = 120_000;
/** Descriptors besides the long polls: the API client, the database, logs, pipes. */
const FD_HEADROOM = 256;
const PACKAGE = { publisher: 'Tether.Bench', type: 'PushProbe', version: '1.0.0' } as const;
const SAMPLE_EXTENSION = 'PushSample';
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
interface FloorScript {
  initial: Answer;
  put: Answer;
  delivery: Answer;
  /** The operation id in `put` and `delivery`, replaced by a fresh one per PUT. */
  operationId: string;
  /** The extension name in `put` and `delivery`, replaced by the one each PUT names. */
  extension: string;
}

export async function run(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'tether-push-bench-'));
  const dataDir = join(root, 'data');
  const children: ChildProcess[] = [];
  const fleets: LongPollFleet[] = [];
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
    const script = await captureScript(api, sampleMachine, admin);

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
    const results: Record<Target['label'], RoundResult[]> = { tether: [], floor: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const target of [floor, tether]) {
        const extension = `PushProbe${round}`;
        const polls = new LongPollFleet(all, {
          port: target.port,
          ca,
          waitSeconds: WAIT_SECONDS,
          extension,
        });
        fleets.push(polls);
        results[target.label].push(await pushRound(target, polls, all, admin, ca, extension));
        polls.close();
      }
    }
    api.destroy();

    const t = combine(results.tether);
    const f = combine(results.floor);
    const tl = summarize(t.fromAccepted);
    const fl = summarize(f.fromAccepted);
    const ts = summarize(t.fromSent);
    const fs = summarize(f.fromSent);
    const tp = summarize(t.putMs);
    const fp = summarize(f.putMs);
    const limited =
      machineCount < REQUESTED
        ? ` LIMITED to ${machineCount} of ${REQUESTED} requested by the open-file limit ${fdLimit};`
        : '';
    report(
      `extension-push: ${machineCount} simulated agents, each holding GET …/extensionGoalState?after=<gen>&wait=${WAIT_SECONDS} on its own keep-alive TLS connection;${limited} ` +
        `the operator PUTs one extension per machine, ${PUT_PARALLEL} in flight, ${ROUNDS} round(s) per server, floor first ` +
        `(setup untimed: onboarding ${fleet.onboardSeconds.toFixed(0)} s, tokens ${fleet.tokenSeconds.toFixed(0)} s; ${cpus().length} CPUs, load ${loadavg()[0]?.toFixed(1) ?? '?'})`,
      [
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
          metric: `server RSS holding ${machineCount} polls`,
          value: Math.round(Math.max(...results.tether.map((r) => r.rssMiB))),
          unit: 'MiB',
          floor: Math.round(Math.max(...results.floor.map((r) => r.rssMiB))),
        },
      ],
    );
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

/** One timed push: arm every poll (untimed), then PUT one extension per machine. */
async function pushRound(
  target: Target,
  polls: LongPollFleet,
  machines: readonly PollingMachine[],
  admin: string,
  ca: Buffer,
  extension: string,
): Promise<RoundResult> {
  const arming = performance.now();
  await polls.arm();
  progress(
    `${target.label}: ${machines.length} long polls held after ${((performance.now() - arming) / 1000).toFixed(0)} s`,
  );
  // Let the server take the last polls in before the clock starts.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const rssMiB = rssMiBOf(target.pid);
  const api = new TetherApi('', target.port, ca, PUT_PARALLEL);
  const sent = new Array<number>(machines.length);
  const accepted = new Array<number>(machines.length);
  const operations = new Array<string>(machines.length);
  const body = {
    location: 'westeurope',
    properties: {
      publisher: PACKAGE.publisher,
      type: PACKAGE.type,
      typeHandlerVersion: '1.0',
      settings: { probe: true },
    },
  };
  const cpuBefore = cpuMsOf(target.pid);
  const started = performance.now();
  await inParallel(
    machines.length,
    async (i) => {
      const m = machines[i] as PollingMachine;
      sent[i] = performance.now();
      const answer = await api.call('PUT', `${m.path}/extensions/${extension}?${V}`, admin, body);
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
        `${target.label}: machine ${i}'s poll delivered operation ${d.operationId}, its PUT started ${operations[i]}`,
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

/** The sample machine: its first goal state, a PUT, and the poll answer that delivers it. */
async function captureScript(
  api: TetherApi,
  machine: PollingMachine,
  admin: string,
): Promise<FloorScript> {
  const goalState = `${machine.path}/extensionGoalState?${V}`;
  const initial = await api.call('GET', goalState, machine.token);
  if (initial.status !== 200) throw new Error(`goal state: ${initial.status} ${initial.text}`);
  const generation = (JSON.parse(initial.text) as GoalStateAnswer).generation;
  const put = await api.call('PUT', `${machine.path}/extensions/${SAMPLE_EXTENSION}?${V}`, admin, {
    location: 'westeurope',
    properties: {
      publisher: PACKAGE.publisher,
      type: PACKAGE.type,
      typeHandlerVersion: '1.0',
      settings: { probe: true },
    },
  });
  if (put.status !== 201) throw new Error(`PUT extension: ${put.status} ${put.text}`);
  const delivery = await api.call(
    'GET',
    `${goalState}&after=${generation}&wait=${WAIT_SECONDS}`,
    machine.token,
  );
  if (delivery.status !== 200) throw new Error(`long poll: ${delivery.status} ${delivery.text}`);
  const operationId = operationIdOf(put);
  if (!delivery.text.includes(operationId)) {
    throw new Error(`the long poll did not deliver operation ${operationId}: ${delivery.text}`);
  }
  return { initial, put, delivery, operationId, extension: SAMPLE_EXTENSION };
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
 * The floor: node:https with Tether's certificate and none of its logic. A goal-state GET with
 * `after` equal to the machine's generation is held (up to `wait`), any other answers at once;
 * a PUT answers 201 with Tether's bytes and then answers its machine's held poll.
 */
function serveFloor(certFile: string, keyFile: string): void {
  let input = '';
  process.stdin.setEncoding('utf8').on('data', (c: string) => (input += c));
  process.stdin.on('end', () => {
    const script = JSON.parse(input) as FloorScript;
    const headersOf = (answer: Answer): Record<string, string> =>
      Object.fromEntries(
        Object.entries(answer.headers).filter(
          ([name]) => !['date', 'connection', 'keep-alive', 'content-length'].includes(name),
        ),
      );
    const generations = new Map<string, number>();
    const held = new Map<string, { res: ServerResponse; timer: NodeJS.Timeout }>();
    const base = (JSON.parse(script.initial.text) as GoalStateAnswer).generation;
    const operations = new Map<string, { id: string; extension: string }>();
    /** Tether's bytes with this machine's operation id, extension name and generation. */
    const send = (
      res: ServerResponse,
      status: number,
      answer: Answer,
      change?: { id: string; extension: string; generation: number },
    ): void => {
      const headers = headersOf(answer);
      let text = answer.text;
      if (change !== undefined) {
        text = text
          .split(script.operationId)
          .join(change.id)
          .split(`"${script.extension}"`)
          .join(`"${change.extension}"`)
          .replace(/"generation":\d+/, `"generation":${change.generation}`);
        const location = headers['azure-asyncoperation'];
        if (location !== undefined) {
          headers['azure-asyncoperation'] = location.split(script.operationId).join(change.id);
        }
      }
      const body = Buffer.from(text);
      res.writeHead(status, { ...headers, 'content-length': body.length });
      res.end(body);
    };
    const answerPoll = (res: ServerResponse, machine: string): void => {
      const operation = operations.get(machine);
      if (operation === undefined) send(res, 200, script.initial);
      else {
        const generation = generations.get(machine) ?? base;
        send(res, 200, script.delivery, { ...operation, generation });
      }
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
            answerPoll(res, machine);
            return;
          }
          const wait = Number(url.searchParams.get('wait') ?? 50) * 1000;
          const timer = setTimeout(() => {
            held.delete(machine);
            answerPoll(res, machine);
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
            const operation = {
              id: randomUUID(),
              extension: /\/extensions\/([^/]+)$/.exec(url.pathname)?.[1] ?? '',
            };
            const generation = (generations.get(machine) ?? base) + 1;
            operations.set(machine, operation);
            generations.set(machine, generation);
            send(res, 201, script.put, { ...operation, generation });
            const poll = held.get(machine);
            if (poll !== undefined) {
              held.delete(machine);
              clearTimeout(poll.timer);
              answerPoll(poll.res, machine);
            }
          });
          return;
        }
        res.writeHead(404).end();
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
