// `npm run bench fleet -- --machines N --nodes K --heartbeat-interval S [--database sqlite|postgres]
// [--largest M] [--node-workers W] [--workers W] [--seconds T] [--connect-rate R]
// [--connect-minutes C] [--long-poll]`: a simulated fleet
// (fleet/simulated-fleet.ts; --workers is its processes) against
// the real `tether server`, side by side in one run:
// - server CPU per heartbeat with one node and with K nodes over PostgreSQL (PostgreSQL's own
//   CPU shown apart): first the same fleet spread over the K nodes (beside the one node at a
//   K-th of the rate, what each of them then carries), then beating K times as often, so that
//   each node carries the load the one node did. The second is the measure of
//   what several nodes cost: a node a third as busy pays each heartbeat's wake-ups (the frame's
//   read, the batch's timer, its query's answer) alone where a busier one shares them;
// - API p99 latency (GET of a machine) with the fleet's heartbeats against without them;
// - memory per connected machine against a bare node:https server (with a bare `ws` server for
//   the channels) holding the same connections;
// - with --largest M, whether one node holds M machines at a 5-minute heartbeat, every one of
//   them waiting for its goal state to change; the node serves with `--node-workers` workers (by default as
//   many as the open-file limit of one process requires), against a bare node:https floor of as
//   many processes. Its machines start (a token, then their channel or long poll) at
//   most --connect-rate per second over all simulator processes, halving the rate when the node
//   answers 503 busy (each machine waits out the Retry-After it was given) and easing it when
//   answers come slowly. With --connect-minutes, the fleet's connecting (and its floor's) stops
//   counting after C minutes: what holds then is measured, the rest going on connecting.
// Machines wait for goal-state changes as agents do: each holds its agent channel, over which
// the control plane announces changes, and fetches its goal state when told; with --long-poll,
// each holds an extension long poll (renewed every minute) instead, as against a control plane
// that announces nothing.
import { spawn, type ChildProcess } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dataDirPaths } from '@tether/control-plane/server/data-dir';
import { serveBareFloor } from '../fleet/bare-floor.js';
import {
  FLEET_FD_LIMIT,
  FLEET_PUBLIC_URL,
  fdLimits,
  initInstallation,
  loopDelay,
  loopDelayOptions,
  postgresCpuMs,
  startNode,
  stopNode,
  withFdLimit,
  type TetherNode,
} from '../fleet/cluster.js';
import { PostgresCluster, postgresBinDir } from '@tether/e2e/dist/harness/postgres-server.js';
import type { SimulatedMachine } from '../fleet/fleet-protocol.js';
import { machineTokenForm } from '../fleet/machine-token.js';
import { seedSimulatedMachines } from '../fleet/seed-machines.js';
import { onboardSimulatedMachines, SimulatedFleet } from '../fleet/simulated-fleet.js';
import {
  firstPartyPackage,
  makePublisherKey,
  publishPackage,
  type PackageRef,
} from '../extension-publisher.js';
import { CLOCK_TICKS, cpuMsOf } from '../keep-alive-load.js';
import {
  inParallel,
  SIMULATED_MACHINE_PROPERTIES,
  TetherApi,
  V,
  type Installation,
} from '../machine-fleet.js';
import { freePort } from '@tether/e2e/dist/harness/free-port.js';
import { exited, listening } from '../tether-process.js';
import { report, summarize, type Row } from '../stats.js';

interface FleetArgs {
  machines: number;
  nodes: number;
  heartbeatSeconds: number;
  database: 'sqlite' | 'postgres';
  largest: number;
  workers: number;
  nodeWorkers: number;
  seconds: number;
  connectRate: number;
  connectMinutes: number;
  /** Machines hold long polls instead of listening for notices on their channels. */
  longPoll: boolean;
}

function parse(argv: readonly string[]): FleetArgs {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      machines: { type: 'string', default: '2000' },
      nodes: { type: 'string', default: '3' },
      'heartbeat-interval': { type: 'string', default: '10' },
      database: { type: 'string', default: postgresBinDir() === undefined ? 'sqlite' : 'postgres' },
      largest: { type: 'string', default: '0' },
      workers: { type: 'string', default: '2' },
      'node-workers': { type: 'string', default: '0' },
      // Each window spans the longest periodic job's interval (the liveness log's fold, a
      // minute), so the windows compared see the same jobs run, and its p99 rests on ~3,000 GETs.
      seconds: { type: 'string', default: '60' },
      'connect-rate': { type: 'string', default: '400' },
      'connect-minutes': { type: 'string', default: '0' },
      'long-poll': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const positive = (name: string, text: string | undefined, min = 1): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) {
      throw invalidFlag(
        `--${name} ${JSON.stringify(text)} is not valid: expected a whole number of at least ${min}`,
      );
    }
    return n;
  };
  const database = values.database;
  if (database !== 'sqlite' && database !== 'postgres') {
    throw invalidFlag(
      `--database ${JSON.stringify(database)} is not valid: expected sqlite or postgres`,
    );
  }
  return {
    machines: positive('machines', values.machines),
    nodes: positive('nodes', values.nodes),
    heartbeatSeconds: positive('heartbeat-interval', values['heartbeat-interval']),
    database,
    largest: positive('largest', values.largest, 0),
    workers: positive('workers', values.workers),
    nodeWorkers: positive('node-workers', values['node-workers'], 0),
    seconds: positive('seconds', values.seconds),
    connectRate: positive('connect-rate', values['connect-rate']),
    connectMinutes: positive('connect-minutes', values['connect-minutes'], 0),
    longPoll: values['long-poll'],
  };
}

/** A flag's value refused: said plainly by `npm run bench` (Node's own code for it). */
function invalidFlag(message: string): Error {
  return Object.assign(new Error(message), { code: 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' });
}

/** How the simulated machines wait for their goal state to change. */
function waitingBy(args: FleetArgs): string {
  return args.longPoll ? 'long poll held' : 'agent channel open, no long poll';
}

/** Resident memory of a process, in bytes. */
function rssOf(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? 0) * 1024;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface Deployment {
  readonly root: string;
  readonly install: Installation;
  readonly ca: string;
  readonly dataDir: string;
  readonly databaseUrl: string | undefined;
  readonly postgres: PostgresCluster | undefined;
}

interface HeartbeatWindow {
  heartbeats: number;
  perSecond: number;
  nodeCpuMs: number;
  postgresCpuMs: number;
  latencies: number[];
  failures: number;
  /** Failed heartbeats by status (0: no answer). */
  failedBy: Record<string, number>;
  samples: string[];
}

/** Heartbeats of the fleet over `seconds`, with the nodes' and PostgreSQL's CPU time. */
async function heartbeatWindow(
  fleet: SimulatedFleet,
  nodes: readonly TetherNode[],
  postgres: PostgresCluster | undefined,
  seconds: number,
): Promise<HeartbeatWindow> {
  await fleet.stats(true);
  const nodeBefore = nodes.reduce((s, n) => s + cpuMsOf(n.pid), 0);
  const pgBefore = postgres === undefined ? 0 : postgresCpuMs(postgres);
  const started = performance.now();
  await sleep(seconds * 1000);
  const stats = await fleet.stats(true);
  const ms = performance.now() - started;
  const failures = Object.values(stats.heartbeatFailures).reduce((a, b) => a + b, 0);
  return {
    heartbeats: stats.heartbeatsOk,
    perSecond: (stats.heartbeatsOk * 1000) / ms,
    nodeCpuMs: nodes.reduce((s, n) => s + cpuMsOf(n.pid), 0) - nodeBefore,
    postgresCpuMs: (postgres === undefined ? 0 : postgresCpuMs(postgres)) - pgBefore,
    latencies: stats.heartbeatLatencies,
    failures,
    failedBy: stats.heartbeatFailures,
    samples: stats.failureSamples,
  };
}

/** Connection steps of the memory measurement: the first carries the one-time costs. */
const MEMORY_STEPS = 4;
/** How long resident memory is read after a step, and how often. */
const SETTLE_MS = 3000;
const SETTLE_EVERY_MS = 250;

/**
 * Resident memory a freshly started server (`pid`, on `port`) takes per connected machine
 * holding its long poll. The fleet connects in four equal steps; before the first and after
 * each, resident memory is read every 250 ms for 3 s and the median of those readings kept, so
 * one reading taken just before or after a garbage collection does not decide it. `wholeFleet`
 * is what the whole fleet added, per machine, what the first connections cost once (code
 * compiled for the token and poll paths, buffers and caches grown to their working size)
 * included; `perMachine` is the least-squares slope of memory against machines over the
 * readings after steps 1 to 4, without it. The fleet is left connected.
 */
async function memoryPerMachine(
  pid: number,
  port: number,
  deployment: Deployment,
  machines: readonly SimulatedMachine[],
  args: FleetArgs,
): Promise<{
  perMachine: number;
  wholeFleet: number;
  fleet: SimulatedFleet;
  connectSeconds: number;
}> {
  const before = await settledRss(pid);
  const parts: SimulatedFleet[] = [];
  const points: { machines: number; rss: number }[] = [];
  let connectMs = 0;
  try {
    for (let step = 1; step <= MEMORY_STEPS; step += 1) {
      const from = Math.round(((step - 1) * machines.length) / MEMORY_STEPS);
      const to = Math.round((step * machines.length) / MEMORY_STEPS);
      const started = performance.now();
      parts.push(
        await SimulatedFleet.start({
          nodes: [{ host: '127.0.0.1', port }],
          ca: deployment.ca,
          tenantId: deployment.install.tenantId,
          publicUrl: FLEET_PUBLIC_URL,
          machines: machines.slice(from, to),
          workers: args.workers,
          longPoll: true,
          notices: !args.longPoll,
          // Opened at each machine's first heartbeat when it holds a long poll instead.
          channel: true,
        }),
      );
      connectMs += performance.now() - started;
      points.push({ machines: to, rss: await settledRss(pid) });
    }
  } catch (error) {
    await Promise.all(parts.map((part) => part.stop()));
    throw error;
  }
  return {
    perMachine: slope(points),
    wholeFleet: (points.at(-1)!.rss - before) / machines.length,
    fleet: SimulatedFleet.joined(parts),
    connectSeconds: connectMs / 1000,
  };
}

/** The median of a process's resident memory read every 250 ms over 3 s. */
async function settledRss(pid: number): Promise<number> {
  const readings: number[] = [];
  for (let waited = 0; waited < SETTLE_MS; waited += SETTLE_EVERY_MS) {
    await sleep(SETTLE_EVERY_MS);
    readings.push(rssOf(pid));
  }
  readings.sort((a, b) => a - b);
  return readings[Math.floor(readings.length / 2)]!;
}

/** The least-squares slope of rss against machines. */
function slope(points: readonly { machines: number; rss: number }[]): number {
  const n = points.length;
  const meanX = points.reduce((sum, p) => sum + p.machines, 0) / n;
  const meanY = points.reduce((sum, p) => sum + p.rss, 0) / n;
  let covariance = 0;
  let variance = 0;
  for (const p of points) {
    covariance += (p.machines - meanX) * (p.rss - meanY);
    variance += (p.machines - meanX) ** 2;
  }
  return variance === 0 ? 0 : covariance / variance;
}

/** API latency: GETs of machines, one after another every 20 ms, over `seconds`. */
async function probeApi(
  api: TetherApi,
  admin: string,
  machines: readonly SimulatedMachine[],
  seconds: number,
): Promise<number[]> {
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  for (let i = 0; performance.now() < end; i++) {
    const machine = machines[i % machines.length] as SimulatedMachine;
    const started = performance.now();
    const answer = await api.call('GET', `${machine.path}?api-version=2024-07-10`, admin);
    if (answer.status !== 200) throw new Error(`GET ${machine.name} answered ${answer.status}`);
    latencies.push(performance.now() - started);
    await sleep(20);
  }
  return latencies;
}

/** Heartbeats not answered 200 in a window, by status (0: no answer), with the first reasons. */
function failureRow(where: string, w: HeartbeatWindow): Row {
  if (w.failures > 0)
    console.log(`heartbeats refused, ${where}: ${w.samples.slice(0, 3).join(' | ')}`);
  return {
    metric: `heartbeats not answered 200, ${where} ${JSON.stringify(w.failedBy)}`,
    value: w.failures,
    unit: 'req',
  };
}

function cpuPerHeartbeat(w: HeartbeatWindow, part: 'nodeCpuMs' | 'postgresCpuMs'): number {
  return w.heartbeats === 0 ? Number.NaN : Math.round((w[part] * 10_000) / w.heartbeats) / 10;
}

const round2 = (n: number): number => Math.round(n * 100) / 100;

/** The cores each node, and PostgreSQL, has in the deployment the figures are projected to. */
const PAPER_CORES = 8;

export async function run(argv: readonly string[]): Promise<void> {
  const args = parse(argv);
  const root = await mkdtemp(join(tmpdir(), 'tether-fleet-'));
  const children: ChildProcess[] = [];
  let postgres: PostgresCluster | undefined;
  const fleets: SimulatedFleet[] = [];
  try {
    postgres = args.database === 'postgres' ? await PostgresCluster.start() : undefined;
    const dataDir = join(root, 'data');
    const install = await initInstallation(dataDir, postgres?.url);
    const deployment: Deployment = {
      root,
      install,
      ca: readFileSync(install.caCert, 'utf8'),
      dataDir,
      databaseUrl: postgres?.url,
      postgres,
    };
    // FLEET_BENCH_NODE_FLAGS="--cpu-prof --cpu-prof-dir=DIR" profiles every node.
    const nodeFlags = (process.env['FLEET_BENCH_NODE_FLAGS'] ?? '').split(' ').filter(Boolean);
    const nodeOptions = {
      nodeFlags,
      dataDir,
      databaseUrl: postgres?.url,
      flags: ['--heartbeat-interval', `${args.heartbeatSeconds}s`],
      fdLimit: FLEET_FD_LIMIT,
    };

    // One node: onboarding (setup, untimed), memory per connected machine, API latency with and
    // without heartbeats, CPU per heartbeat.
    // The first node measures its event loop's delay, which shows whether API latency under
    // heartbeats is the loop being held up or time spent elsewhere (the database, the CPUs).
    const delayFile = join(root, 'loop-delay.json');
    /** A node that also measures its event loop's delay into `file`. */
    const probed = (file: string): Parameters<typeof startNode>[0] => {
      const probe = loopDelayOptions(file);
      return { ...nodeOptions, ...probe, nodeFlags: [...nodeFlags, ...probe.nodeFlags!] };
    };
    let first = await startNode(probed(delayFile), children);
    let api = new TetherApi(FLEET_PUBLIC_URL, first.port, Buffer.from(deployment.ca));
    const admin = await api.adminToken(install);
    const group = `/subscriptions/${install.subscriptionId}/resourceGroups/fleet`;
    await api.call('PUT', `${group}?api-version=2021-04-01`, admin, { location: 'westeurope' });
    const started = performance.now();
    const machines = await onboardSimulatedMachines(api, admin, group, args.machines);
    const onboardSeconds = (performance.now() - started) / 1000;

    const tokenLength = await machineTokenLength(api, install.tenantId, machines);
    const floor = await startBareFloor(dataDir, tokenLength, children);
    const floorMemory = await memoryPerMachine(floor.pid, floor.port, deployment, machines, args);
    fleets.push(floorMemory.fleet);
    await floorMemory.fleet.stop();
    floor.child.kill('SIGTERM');
    await exited(floor.child);

    // The node starts afresh, as the floor did: onboarding grew its heap, and connections made
    // into that room would look cheaper than they are.
    api.destroy();
    await stopNode(first);
    first = await startNode({ ...probed(delayFile), port: first.port }, children);
    api = new TetherApi(FLEET_PUBLIC_URL, first.port, Buffer.from(deployment.ca));

    const tetherMemory = await memoryPerMachine(first.pid, first.port, deployment, machines, args);
    const fleet = tetherMemory.fleet;
    fleets.push(fleet);
    const connectSeconds = tetherMemory.connectSeconds;
    const held = (await fleet.stats(true)).pollsHeld.reduce((a, b) => a + b, 0);

    await loopDelay(first, delayFile);
    const unloaded = await probeApi(api, admin, machines, args.seconds);
    const unloadedDelay = await loopDelay(first, delayFile);
    fleet.heartbeats(args.heartbeatSeconds * 1000);
    await sleep(args.heartbeatSeconds * 1000); // every machine's first heartbeat: warm-up
    const single = await heartbeatWindow(fleet, [first], postgres, args.seconds);
    await loopDelay(first, delayFile);
    const loaded = await probeApi(api, admin, machines, args.seconds);
    const loadedDelay = await loopDelay(first, delayFile);
    // The control for the same fleet spread over K nodes: this one node at a K-th of the rate,
    // what each of those nodes carries. Per heartbeat, a node pays by how busy it is.
    let sparse: HeartbeatWindow | undefined;
    if (postgres !== undefined && args.nodes > 1) {
      fleet.heartbeats(args.heartbeatSeconds * 1000 * args.nodes);
      await sleep(args.heartbeatSeconds * 1000);
      sparse = await heartbeatWindow(fleet, [first], postgres, args.seconds);
    }
    await fleet.stop();
    api.destroy();
    await stopNode(first);

    const offered = args.machines / args.heartbeatSeconds;
    const rows: Row[] = [
      {
        metric: `memory per connected machine (${waitingBy(args)}), fresh process`,
        value: Math.round(tetherMemory.wholeFleet),
        unit: 'B',
        floor: Math.round(floorMemory.wholeFleet),
        target: '<= 1.3x floor',
      },
      {
        metric: 'memory per machine more, slope over four steps',
        value: Math.round(tetherMemory.perMachine),
        unit: 'B',
        floor: Math.round(floorMemory.perMachine),
      },
      {
        metric: 'API p99 (GET machine) under heartbeats',
        value: round2(summarize(loaded).p99),
        unit: 'ms',
        floor: round2(summarize(unloaded).p99),
        target: '<= 2x unloaded',
      },
      {
        metric: 'server event-loop delay p99 / max under heartbeats',
        value: round2(loadedDelay.p99),
        unit: 'ms',
        floor: round2(unloadedDelay.p99),
      },
      { metric: '', value: round2(loadedDelay.max), unit: 'ms', floor: round2(unloadedDelay.max) },
      {
        metric: 'API p50 (GET machine) under heartbeats',
        value: round2(summarize(loaded).p50),
        unit: 'ms',
        floor: round2(summarize(unloaded).p50),
      },
      {
        metric: 'heartbeats/s, one node',
        value: Math.round(single.perSecond),
        unit: 'req/s',
        floor: Math.round(offered),
      },
      {
        metric: 'heartbeat latency p50 / p99, one node',
        value: round2(summarize(single.latencies).p50),
        unit: 'ms',
      },
      { metric: '', value: round2(summarize(single.latencies).p99), unit: 'ms' },
      {
        metric: 'server CPU per heartbeat, one node',
        value: cpuPerHeartbeat(single, 'nodeCpuMs'),
        unit: 'µs',
      },
    ];
    if (postgres !== undefined) {
      rows.push({
        metric: 'PostgreSQL CPU per heartbeat, one node',
        value: cpuPerHeartbeat(single, 'postgresCpuMs'),
        unit: 'µs',
      });
    }

    if (postgres !== undefined && args.nodes > 1) {
      const nodes: TetherNode[] = [];
      // Each with the loop-delay probe the one node ran (never read here): its timer's wake-ups
      // are part of what every node's CPU per heartbeat is compared with.
      for (let i = 0; i < args.nodes; i++)
        nodes.push(await startNode(probed(join(root, `loop-delay-${i}.json`)), children));
      const spread = await SimulatedFleet.start({
        nodes: nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
        ca: deployment.ca,
        tenantId: install.tenantId,
        publicUrl: FLEET_PUBLIC_URL,
        machines,
        workers: args.workers,
        longPoll: true,
        notices: !args.longPoll,
        channel: true,
      });
      fleets.push(spread);
      spread.heartbeats(args.heartbeatSeconds * 1000);
      await sleep(args.heartbeatSeconds * 1000);
      const many = await heartbeatWindow(spread, nodes, postgres, args.seconds);
      // The same load on each node as the one node carried: the fleet beats K times as often.
      const fasterMs = (args.heartbeatSeconds * 1000) / args.nodes;
      spread.heartbeats(fasterMs);
      await sleep(fasterMs);
      const even = await heartbeatWindow(spread, nodes, postgres, args.seconds);
      await spread.stop();
      await Promise.all(nodes.map((n) => stopNode(n)));
      rows.push(
        {
          metric: `heartbeats/s, the same fleet over ${args.nodes} nodes`,
          value: Math.round(many.perSecond),
          unit: 'req/s',
          floor: Math.round(offered),
        },
        {
          metric: `server CPU per heartbeat, the same fleet over ${args.nodes} nodes (sum) vs one`,
          value: cpuPerHeartbeat(many, 'nodeCpuMs'),
          unit: 'µs',
          floor: cpuPerHeartbeat(single, 'nodeCpuMs'),
        },
        {
          metric: `server CPU per heartbeat, the same fleet over ${args.nodes} nodes (sum) vs one node at 1/${args.nodes} of the rate`,
          value: cpuPerHeartbeat(many, 'nodeCpuMs'),
          unit: 'µs',
          floor: sparse === undefined ? Number.NaN : cpuPerHeartbeat(sparse, 'nodeCpuMs'),
        },
        {
          metric: `PostgreSQL CPU per heartbeat, the same fleet over ${args.nodes} nodes vs one`,
          value: cpuPerHeartbeat(many, 'postgresCpuMs'),
          unit: 'µs',
          floor: cpuPerHeartbeat(single, 'postgresCpuMs'),
        },
        {
          metric: `heartbeats/s, ${args.nodes} nodes, each as loaded as the one`,
          value: Math.round(even.perSecond),
          unit: 'req/s',
          floor: Math.round(offered * args.nodes),
        },
        {
          metric: `server CPU per heartbeat, ${args.nodes} nodes each as loaded as the one (sum) vs one`,
          value: cpuPerHeartbeat(even, 'nodeCpuMs'),
          unit: 'µs',
          floor: cpuPerHeartbeat(single, 'nodeCpuMs'),
          target: '<= 1.2x one node',
        },
        {
          metric: `PostgreSQL CPU per heartbeat, ${args.nodes} nodes each as loaded as the one`,
          value: cpuPerHeartbeat(even, 'postgresCpuMs'),
          unit: 'µs',
          floor: cpuPerHeartbeat(single, 'postgresCpuMs'),
        },
      );
      // On paper: what the measured costs would hold with every node and PostgreSQL on 8 cores
      // of their own, all busy; at a 5-minute heartbeat a machine sends one every 300 s.
      const nodeCpu = cpuPerHeartbeat(even, 'nodeCpuMs');
      const postgresCpu = cpuPerHeartbeat(even, 'postgresCpuMs');
      const perSecond = Math.min(
        (args.nodes * PAPER_CORES * 1e6) / nodeCpu,
        (PAPER_CORES * 1e6) / postgresCpu,
      );
      rows.push({
        metric: `on paper, ${args.nodes} nodes of ${PAPER_CORES} cores (${PAPER_CORES} workers each) and PostgreSQL on ${PAPER_CORES} cores, by CPU alone (the lesser of the two): machines at a 5-minute heartbeat`,
        value: Math.round((perSecond * 300) / 1000) * 1000,
        unit: 'machines',
      });
      rows.push(
        failureRow(`the same fleet over ${args.nodes} nodes`, many),
        failureRow(`${args.nodes} nodes each as loaded as the one`, even),
      );
    }
    rows.push(failureRow('one node', single), {
      metric: `machines waiting for goal-state changes (${waitingBy(args)}) before the heartbeats`,
      value: held,
      unit: 'machines',
      floor: machines.length,
    });

    report(
      `fleet: ${args.machines} simulated machines (onboarded through the API in ${onboardSeconds.toFixed(0)} s, setup untimed; tokens, ${args.longPoll ? 'long polls armed' : 'channels opened'} in ${connectSeconds.toFixed(0)} s) at a ${args.heartbeatSeconds} s heartbeat, ${args.workers} simulator processes, ${args.database}, ${args.seconds} s windows (${cpus().length} CPUs, load ${loadavg()[0]?.toFixed(1) ?? '?'})`,
      rows,
    );

    if (args.largest > 0) await largestFleet(args, deployment, nodeOptions, children, fleets);
  } finally {
    await Promise.all(fleets.map((f) => f.stop().catch(() => undefined)));
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map(exited));
    await postgres?.destroy();
    await rm(root, { recursive: true, force: true });
  }
}

/** Extension requests written to this many of the largest fleet's machines, to time delivery. */
const DELIVERY_SAMPLE = 200;
const DELIVERY_TIMEOUT_MS = 120_000;
/** Long-poll connections one process is given: the rest of its open-file limit is its own. */
const CONNECTIONS_PER_PROCESS_SHARE = 0.8;

/**
 * One node, `--largest` machines at a 5-minute heartbeat, every one waiting for changes. Past
 * what one process's open files allow, the node serves its port with workers (PostgreSQL only),
 * the simulator runs in as many processes and the long polls come from several 127.0.0.x
 * source addresses, so that no process and no address runs out. The floor is a bare
 * node:https server with as many workers, holding the same connections, measured first.
 */
async function largestFleet(
  args: FleetArgs,
  deployment: Deployment,
  nodeOptions: Parameters<typeof startNode>[0],
  children: ChildProcess[],
  fleets: SimulatedFleet[],
): Promise<void> {
  const hardLimit = fdLimits()[1];
  const perProcess = Math.floor(hardLimit * CONNECTIONS_PER_PROCESS_SHARE);
  const needed = Math.max(1, Math.ceil(args.largest / perProcess));
  const workers =
    deployment.databaseUrl === undefined ? 1 : args.nodeWorkers > 0 ? args.nodeWorkers : needed;
  if (deployment.databaseUrl === undefined && needed > 1) {
    console.log(
      `largest fleet: over SQLite one process serves the node, which holds at most about ${perProcess} connections here; run with --database postgres for workers`,
    );
  }
  const port = await freePort();
  // The node's own address is its public URL here: the CLI publishes the extension through it.
  const publicUrl = `https://localhost:${port}`;
  const options = {
    ...nodeOptions,
    port,
    publicUrl,
    flags: ['--heartbeat-interval', '5m', ...(workers > 1 ? ['--workers', String(workers)] : [])],
    startTimeoutMs: 30_000 * workers,
  };
  const ca = Buffer.from(deployment.ca);
  let node = await startNode(options, children);
  const api = new TetherApi(publicUrl, port, ca);
  const admin = await api.adminToken(deployment.install);
  const group = `/subscriptions/${deployment.install.subscriptionId}/resourceGroups/largest`;
  await api.call('PUT', `${group}?api-version=2021-04-01`, admin, { location: 'westeurope' });
  api.destroy();
  const extension = firstPartyPackage('Microsoft.Azure.Extensions', 'CustomScript');
  const cli = {
    install: deployment.install,
    url: publicUrl,
    configDir: join(deployment.root, 'cli'),
  };
  await mkdir(cli.configDir, { recursive: true });
  await publishPackage(cli, await makePublisherKey(cli, join(cli.configDir, 'key')), extension);
  // Seeded with the node stopped: the rows onboarding writes, without a request per machine.
  await stopNode(node);
  let started = performance.now();
  const machines = await seedSimulatedMachines({
    database:
      deployment.databaseUrl === undefined
        ? { kind: 'sqlite', file: dataDirPaths(deployment.dataDir).database }
        : { kind: 'postgres', url: deployment.databaseUrl },
    group,
    count: args.largest,
    prefix: 'big-',
    properties: SIMULATED_MACHINE_PROPERTIES,
  });
  const onboardSeconds = (performance.now() - started) / 1000;
  // Each (source, destination) pair has ~28,000 ephemeral ports, and a socket bound to a source
  // address before it connects takes its port from that address's range whatever the
  // destination: the long polls are spread so that each address holds fewer than a process.
  const sources = Array.from(
    { length: Math.ceil(args.largest / perProcess) + 1 },
    (_, i) => `127.0.0.${i + 1}`,
  );
  const simulators = Math.max(args.workers, needed);
  const connect = async (target: number): Promise<SimulatedFleet> => {
    const fleet = await SimulatedFleet.start({
      nodes: [{ host: '127.0.0.1', port: target }],
      ca: deployment.ca,
      tenantId: deployment.install.tenantId,
      publicUrl,
      machines,
      workers: simulators,
      longPoll: true,
      notices: !args.longPoll,
      sourceAddresses: sources,
      connectsPerSecond: args.connectRate,
      startWithinMs: args.connectMinutes * 60_000,
      machineByMachine: true,
    });
    fleets.push(fleet);
    return fleet;
  };

  node = await startNode(options, children);
  const tokenApi = new TetherApi(publicUrl, node.port, ca, 1);
  const tokenLength = await machineTokenLength(tokenApi, deployment.install.tenantId, machines);
  tokenApi.destroy();
  const before = treeOf(node.pid);
  started = performance.now();
  const fleet = await connect(node.port);
  const armSeconds = (performance.now() - started) / 1000;
  fleet.heartbeats(300_000);
  // A minute of the steady state: every long poll (if held) answered and renewed once, a fifth
  // of the heartbeats sent.
  const cpuBefore = cpuOfTree(node.pid);
  const busyAtConnect = (await fleet.stats(true)).busyAnswers;
  await sleep(WINDOW_MS);
  const stats = await fleet.stats(true);
  const cpuMs = cpuOfTree(node.pid) - cpuBefore;
  const held = stats.pollsHeld.reduce((a, b) => a + b, 0);
  const after = treeOf(node.pid);
  // A change reaching a sample of the machines through their held polls.
  const deliveries = await deliverySample(
    node.port,
    publicUrl,
    ca,
    deployment,
    machines,
    fleet,
    extension,
  );
  // An API read while every machine holds its poll.
  const probe = new TetherApi(publicUrl, node.port, ca, 1);
  const apiLatencies = await probeApi(
    probe,
    await probe.adminToken(deployment.install),
    machines,
    5,
  );
  probe.destroy();
  const failures =
    Object.values(stats.heartbeatFailures).reduce((a, b) => a + b, 0) +
    Object.values(stats.pollFailures).reduce((a, b) => a + b, 0);
  await fleet.stop();
  await stopNode(node);
  const busy = cpuMs / WINDOW_MS;
  // The node's figures at once: the floor that follows takes as long again to connect.
  console.log(
    `largest fleet, node: ${held} machines waiting for changes (${waitingBy(args)}); ${Math.round((after.rss - before.rss) / Math.max(1, held))} B and ${round2((busy * 1e6) / Math.max(1, held))} µs/s of CPU per machine; heartbeat p99 ${round2(summarize(stats.heartbeatLatencies).p99)} ms; delivery p99 ${round2(summarize(deliveries.fromAnswer).p99)} ms`,
  );

  // The floor, afterwards: the same connections held by a bare node:https server with as many workers.
  const floor = await startBareFloor(deployment.dataDir, tokenLength, children, workers);
  const floorBefore = treeOf(floor.pid);
  started = performance.now();
  const floorFleet = await connect(floor.port);
  const floorArmSeconds = (performance.now() - started) / 1000;
  floorFleet.heartbeats(300_000);
  await floorFleet.stats(true);
  const floorCpuBefore = cpuOfTree(floor.pid);
  await sleep(FLOOR_WINDOW_MS);
  const floorStats = await floorFleet.stats(true);
  const floorCpu = cpuOfTree(floor.pid) - floorCpuBefore;
  const floorHeld = floorStats.pollsHeld.reduce((a, b) => a + b, 0);
  const floorAfter = treeOf(floor.pid);
  await floorFleet.stop();
  floor.child.kill('SIGTERM');
  await exited(floor.child);

  const floorBusy = floorCpu / FLOOR_WINDOW_MS;
  const perMachine = (after.rss - before.rss) / Math.max(1, held);
  const floorPerMachine = (floorAfter.rss - floorBefore.rss) / Math.max(1, floorHeld);
  const heartbeat = summarize(stats.heartbeatLatencies);
  const apiRead = summarize(apiLatencies);
  const delivery = summarize(deliveries.fromAnswer);
  const processes = `${after.pids.length} processes (primary and ${workers} workers)`;
  report(
    `fleet, largest: one node${workers > 1 ? ` of ${processes}` : ''}, ${args.largest} machines seeded into the database (${onboardSeconds.toFixed(0)} s) and connected${fleet.partial ? ` as far as ${args.connectMinutes} minutes allowed` : ''} (${armSeconds.toFixed(0)} s, each machine its token then its ${args.longPoll ? 'long poll' : 'channel'}: the last token at ${(fleet.tokenMs / 1000).toFixed(0)} s, the last ${args.longPoll ? 'poll' : 'channel'} ${(fleet.armMs / 1000).toFixed(0)} s later; the floor's ${floorArmSeconds.toFixed(0)} s) from ${simulators} simulator processes and ${sources.length} source addresses, 5-minute heartbeat, ${WINDOW_MS / 1000} s of steady state (floor: a bare node:https server of as many processes holding the same connections, ${FLOOR_WINDOW_MS / 1000} s) (${cpus().length} CPUs, load ${loadavg()[0]?.toFixed(1) ?? '?'})`,
    [
      {
        metric: `machines waiting for goal-state changes (${waitingBy(args)})`,
        value: held,
        unit: 'machines',
        floor: args.largest,
        target: '>= 100,000',
      },
      { metric: 'failed heartbeats and polls in the window', value: failures, unit: 'requests' },
      {
        metric: `starts answered 503 busy while connecting at most ${args.connectRate}/s (each waited out its Retry-After)`,
        value: busyAtConnect,
        unit: 'req',
      },
      { metric: 'heartbeats answered in the window', value: stats.heartbeatsOk, unit: 'req' },
      {
        metric: args.longPoll
          ? 'long polls renewed in the window'
          : 'goal states fetched on a notice in the window',
        value: stats.pollAnswers,
        unit: 'req',
      },
      { metric: 'heartbeat latency p50 / p99', value: round2(heartbeat.p50), unit: 'ms' },
      { metric: '', value: round2(heartbeat.p99), unit: 'ms' },
      {
        metric: `${args.longPoll ? 'long poll' : 'notice'}: extension request answered to its delivery, p50 / p99 (${deliveries.fromAnswer.length} of ${DELIVERY_SAMPLE} machines)`,
        value: round2(delivery.p50),
        unit: 'ms',
      },
      { metric: '', value: round2(delivery.p99), unit: 'ms' },
      {
        metric: 'API p50 / p99 (GET machine) at this size',
        value: round2(apiRead.p50),
        unit: 'ms',
      },
      { metric: '', value: round2(apiRead.p99), unit: 'ms' },
      {
        metric: 'node CPU busy (all processes)',
        value: round2(busy),
        unit: 'CPUs',
        floor: round2(floorBusy),
      },
      {
        metric: 'node CPU per connected machine',
        value: round2((busy * 1e6) / Math.max(1, held)),
        unit: 'µs/s',
        floor: round2((floorBusy * 1e6) / Math.max(1, floorHeld)),
      },
      {
        metric: 'node resident memory (sum of all processes)',
        value: Math.round(after.rss / 1048576),
        unit: 'MiB',
        floor: Math.round(floorAfter.rss / 1048576),
      },
      {
        metric: 'memory per connected machine',
        value: Math.round(perMachine),
        unit: 'B',
        floor: Math.round(floorPerMachine),
        target: '<= 1.3x floor',
      },
      {
        metric: 'most open files of one node process',
        value: Math.max(...after.fds),
        unit: 'fds',
        floor: hardLimit,
      },
    ],
  );
  if (fleet.partial || floorFleet.partial) {
    console.log(
      `largest fleet: --connect-minutes ${args.connectMinutes} ran out before every machine was connected to the ${fleet.partial ? 'node' : 'floor'}${fleet.partial && floorFleet.partial ? ' and to the floor' : ''}; the windows measured what held then while the rest went on connecting`,
    );
  }
  if (held < args.largest) {
    console.log(
      `largest fleet: ${args.largest - held} machines not waiting for changes at the end of the window; polls or channels failed by status: ${JSON.stringify(stats.pollFailures)}`,
    );
  }
}

/** Heartbeat windows of the largest fleet and of its floor. */
const WINDOW_MS = 61_000;
const FLOOR_WINDOW_MS = 31_000;

/**
 * An extension request written to DELIVERY_SAMPLE machines spread over the fleet, eight at a
 * time; for each, the time from the write's answer to the goal state that carried it.
 */
async function deliverySample(
  port: number,
  publicUrl: string,
  ca: Buffer,
  deployment: Deployment,
  machines: readonly SimulatedMachine[],
  fleet: SimulatedFleet,
  extension: PackageRef,
): Promise<{ fromAnswer: number[] }> {
  const api = new TetherApi(publicUrl, port, ca, 8);
  const admin = await api.adminToken(deployment.install);
  const step = Math.max(1, Math.floor(machines.length / DELIVERY_SAMPLE));
  const sample = machines.filter((_, i) => i % step === 0).slice(0, DELIVERY_SAMPLE);
  const answered = new Map<string, number>();
  await inParallel(
    sample.length,
    async (i) => {
      const m = sample[i] as SimulatedMachine;
      const answer = await api.call('PUT', `${m.path}/extensions/delivery?${V}`, admin, {
        location: 'westeurope',
        properties: {
          publisher: extension.publisher,
          type: extension.type,
          typeHandlerVersion: extension.version.split('.').slice(0, 2).join('.'),
          settings: { commandToExecute: 'true' },
        },
      });
      if (answer.status >= 300) throw new Error(`PUT extension: ${answer.status} ${answer.text}`);
      answered.set(m.name, Date.now());
    },
    8,
  );
  api.destroy();
  const deadline = Date.now() + DELIVERY_TIMEOUT_MS;
  let deliveries = (await fleet.stats()).deliveries;
  while (
    sample.some((m) => deliveries.get(m.name)?.['delivery'] === undefined) &&
    Date.now() < deadline
  ) {
    await sleep(500);
    deliveries = (await fleet.stats()).deliveries;
  }
  const fromAnswer: number[] = [];
  for (const m of sample) {
    const at = deliveries.get(m.name)?.['delivery'];
    if (at !== undefined) fromAnswer.push(Math.max(0, at - (answered.get(m.name) ?? at)));
  }
  return { fromAnswer };
}

/** A process and its children (a node's primary and workers): their memory and open files. */
function treeOf(pid: number): { pids: number[]; rss: number; fds: number[] } {
  const pids = [pid, ...childrenOf(pid)];
  return { pids, rss: pids.reduce((sum, p) => sum + rssOf(p), 0), fds: pids.map(openFiles) };
}

/** CPU time of a process and its live children, and of the children it has waited for. */
function cpuOfTree(pid: number): number {
  return [pid, ...childrenOf(pid)].reduce((sum, p) => sum + cpuMsOf(p), 0) + waitedCpuMsOf(pid);
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter((p) => p !== '')
      .map(Number);
  } catch {
    return [];
  }
}

/** The CPU time of a process's children that have ended and been waited for (cutime, cstime). */
function waitedCpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / CLOCK_TICKS;
}

/** How many files a process has open. */
function openFiles(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/**
 * How long an access token of one of `machines` is: the floor hands out tokens as long, so that
 * each poll it holds carries the same request as Tether's.
 */
async function machineTokenLength(
  api: TetherApi,
  tenantId: string,
  machines: readonly SimulatedMachine[],
): Promise<number> {
  const machine = machines[0] as SimulatedMachine;
  const form = await machineTokenForm(machine, createPrivateKey(machine.keyPem), api.url, tenantId);
  return (await api.formToken(tenantId, form)).length;
}

async function startBareFloor(
  dataDir: string,
  tokenLength: number,
  children: ChildProcess[],
  workers = 1,
): Promise<{ port: number; pid: number; child: ChildProcess }> {
  const tls = dataDirPaths(dataDir).tls;
  const [command, ...rest] = withFdLimit(FLEET_FD_LIMIT, [
    process.execPath,
    fileURLToPath(import.meta.url),
    '--bare-floor',
    join(tls, 'server.crt'),
    join(tls, 'server.key'),
    String(tokenLength),
    String(workers),
  ]);
  const child = spawn(command as string, rest, { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const port = Number(await listening(child, /^floor listening on (\d+)$/m));
  return { port, pid: child.pid ?? 0, child };
}

if (
  process.argv[2] === '--bare-floor' &&
  import.meta.url === pathToFileURL(process.argv[1] ?? '').href
) {
  serveBareFloor(
    process.argv[3] ?? '',
    process.argv[4] ?? '',
    Number(process.argv[5]),
    Number(process.argv[6] ?? 1),
  );
}
