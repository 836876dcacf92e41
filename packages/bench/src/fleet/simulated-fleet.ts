// The fleet simulator's coordinator: machines onboarded through the API (each its own P-256
// key), handed out to a few worker processes (fleet-worker.ts) that speak the agent's protocol
// to the nodes given, and their figures gathered and merged.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { onboardMachines, type TetherApi } from '../machine-fleet.js';
import { exited } from '../tether-process.js';
import { FLEET_FD_LIMIT, withFdLimit } from './cluster.js';
import type {
  FromWorker,
  SimulatedMachine,
  ToWorker,
  WorkerSetup,
  WorkerStats,
} from './fleet-protocol.js';
import type { Endpoint } from './raw-connection.js';

const WORKER = fileURLToPath(new URL('./fleet-worker.js', import.meta.url));

/** Onboards `count` machines through the API and keeps their keys for the simulator. */
export async function onboardSimulatedMachines(
  api: TetherApi,
  admin: string,
  group: string,
  count: number,
  prefix = 'sim-',
): Promise<SimulatedMachine[]> {
  const onboarded = await onboardMachines(api, admin, group, count, prefix);
  return onboarded.map((m) => ({
    name: m.name,
    path: m.path,
    principalId: m.principalId,
    kid: m.kid,
    keyPem: m.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  }));
}

export interface FleetOptions {
  readonly nodes: readonly Endpoint[];
  readonly ca: string;
  readonly tenantId: string;
  readonly publicUrl: string;
  readonly machines: readonly SimulatedMachine[];
  readonly workers: number;
  readonly longPoll: boolean;
  readonly pollWaitSeconds?: number;
  readonly sharedConnections?: number;
  readonly sourceAddresses?: readonly string[];
  /**
   * Machines started per second by the whole fleet, at most (token requests and polls on a new
   * connection), shared by its processes and adapting to 503 busy and slow answers; 0 or
   * absent: as fast as they go.
   */
  readonly connectsPerSecond?: number;
  /**
   * Start resolves after this long at the latest, with `partial` set, the machines not yet
   * connected going on connecting; absent or 0: once all are.
   */
  readonly startWithinMs?: number;
  /**
   * Each machine gets its token and then arms its poll, as agents starting do, instead of every
   * token first: the polls held grow from the start.
   */
  readonly machineByMachine?: boolean;
  /** Heartbeats over each machine's agent channel, as agents send them; POSTs when false. */
  readonly channel?: boolean;
  /**
   * Instead of a long poll, each machine holds its agent channel from the start and fetches its
   * goal state when the channel announces a change (implies `channel`).
   */
  readonly notices?: boolean;
}

export interface FleetStats {
  heartbeatsOk: number;
  heartbeatFailures: Record<string, number>;
  failureSamples: string[];
  retryAfter: string[];
  heartbeatLatencies: number[];
  pollsHeld: number[];
  pollAnswers: number;
  pollFailures: Record<string, number>;
  /** Starts answered 503 busy and waited out as their Retry-After asked. */
  busyAnswers: number;
  reconnects: WorkerStats['reconnects'];
  /** Latest acknowledged heartbeat per machine (when it was sent). */
  acknowledgedHeartbeats: Map<string, number>;
  /** Per machine, the extensions whose operation its latest goal state carried. */
  operations: Map<string, string[]>;
  /** Per machine, when each extension's operation first reached it (ms since the epoch). */
  deliveries: Map<string, Record<string, number>>;
}

export class SimulatedFleet {
  #pending = new Map<ChildProcess, (message: FromWorker) => void>();
  #failure: Error | undefined;

  private constructor(
    private readonly workers: readonly ChildProcess[],
    readonly tokenMs: number,
    readonly armMs: number,
    /** Whether start() returned before every machine was connected (startWithinMs). */
    readonly partial = false,
  ) {}

  /** Starts the workers; resolves once every machine has its token and, if asked, its long poll. */
  static async start(options: FleetOptions): Promise<SimulatedFleet> {
    const count = Math.max(1, Math.min(options.workers, options.machines.length));
    const workers: ChildProcess[] = [];
    const ready: Promise<FromWorker>[] = [];
    for (let w = 0; w < count; w++) {
      const [command, ...args] = withFdLimit(FLEET_FD_LIMIT, [process.execPath, WORKER]);
      const child = spawn(command as string, args, {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      workers.push(child);
      ready.push(
        new Promise((resolve, reject) => {
          child.once('message', resolve);
          child.once('exit', (code) =>
            reject(new Error(`fleet worker exited with ${String(code)}`)),
          );
        }),
      );
      const setup: WorkerSetup = {
        nodes: options.nodes,
        ca: options.ca,
        tenantId: options.tenantId,
        publicUrl: options.publicUrl,
        machines: options.machines.filter((_, i) => i % count === w),
        workerIndex: w,
        longPoll: options.longPoll,
        pollWaitSeconds: options.pollWaitSeconds ?? 60,
        sharedConnections: options.sharedConnections ?? 8,
        sourceAddresses: options.sourceAddresses ?? [],
        connectsPerSecond: (options.connectsPerSecond ?? 0) / count,
        startWithinMs: options.startWithinMs ?? 0,
        machineByMachine: options.machineByMachine ?? false,
        channel: (options.channel ?? false) || (options.notices ?? false),
        notices: options.notices ?? false,
      };
      child.send({ type: 'setup', setup } satisfies ToWorker);
    }
    let answers: FromWorker[];
    try {
      answers = await Promise.all(ready);
    } catch (error) {
      for (const child of workers) child.kill();
      throw error;
    }
    const failed = answers.find((a) => a.type === 'error');
    if (failed?.type === 'error') {
      for (const child of workers) child.kill();
      throw new Error(`fleet worker failed: ${failed.message}`);
    }
    const slowest = (key: 'tokenMs' | 'armMs'): number =>
      Math.max(...answers.map((a) => (a.type === 'ready' ? a[key] : 0)));
    const fleet = new SimulatedFleet(
      workers,
      slowest('tokenMs'),
      slowest('armMs'),
      answers.some((a) => a.type === 'ready' && a.partial),
    );
    fleet.#listen();
    return fleet;
  }

  /**
   * The fleets given, started one after another, as one: their heartbeats, figures and stop
   * go to every worker of each.
   */
  static joined(parts: readonly SimulatedFleet[]): SimulatedFleet {
    const fleet = new SimulatedFleet(
      parts.flatMap((p) => p.workers),
      Math.max(...parts.map((p) => p.tokenMs)),
      Math.max(...parts.map((p) => p.armMs)),
      parts.some((p) => p.partial),
    );
    fleet.#listen();
    return fleet;
  }

  #listen(): void {
    for (const child of this.workers) {
      child.on('message', (message: FromWorker) => this.#pending.get(child)?.(message));
      child.on('exit', (code) => {
        this.#failure ??= new Error(`fleet worker exited with ${String(code)}`);
      });
    }
  }

  /** Every machine heartbeats every `intervalMs` from now on (0 stops them). */
  heartbeats(intervalMs: number): void {
    for (const child of this.workers)
      child.send({ type: 'heartbeats', intervalMs } satisfies ToWorker);
  }

  /** Figures of every worker merged; `reset` starts the counters and latencies afresh. */
  async stats(reset = false): Promise<FleetStats> {
    if (this.#failure !== undefined) throw this.#failure;
    const all = await Promise.all(
      this.workers.map(
        (child) =>
          new Promise<WorkerStats>((resolve) => {
            this.#pending.set(child, (message) => {
              if (message.type !== 'stats') return;
              this.#pending.delete(child);
              resolve(message.stats);
            });
            child.send({ type: 'stats', reset } satisfies ToWorker);
          }),
      ),
    );
    const merged: FleetStats = {
      heartbeatsOk: 0,
      heartbeatFailures: {},
      failureSamples: [],
      retryAfter: [],
      heartbeatLatencies: [],
      pollsHeld: [],
      pollAnswers: 0,
      pollFailures: {},
      busyAnswers: 0,
      reconnects: [],
      acknowledgedHeartbeats: new Map(),
      operations: new Map(),
      deliveries: new Map(),
    };
    for (const s of all) {
      merged.heartbeatsOk += s.heartbeatsOk;
      addCounts(merged.heartbeatFailures, s.heartbeatFailures);
      merged.retryAfter.push(...s.retryAfter);
      merged.failureSamples.push(...s.failureSamples);
      for (const l of s.heartbeatLatencies) merged.heartbeatLatencies.push(l);
      s.pollsHeld.forEach((n, i) => (merged.pollsHeld[i] = (merged.pollsHeld[i] ?? 0) + n));
      merged.pollAnswers += s.pollAnswers;
      addCounts(merged.pollFailures, s.pollFailures);
      merged.busyAnswers += s.busyAnswers;
      merged.reconnects.push(...s.reconnects);
      for (const [name, at] of Object.entries(s.acknowledged.heartbeats))
        merged.acknowledgedHeartbeats.set(name, at);
      for (const [name, names] of Object.entries(s.operations)) merged.operations.set(name, names);
      for (const [name, at] of Object.entries(s.deliveries)) merged.deliveries.set(name, at);
    }
    return merged;
  }

  async stop(): Promise<void> {
    for (const child of this.workers) {
      if (child.connected) child.send({ type: 'stop' } satisfies ToWorker);
    }
    const timer = setTimeout(() => {
      for (const child of this.workers) child.kill();
    }, 5_000);
    await Promise.all(this.workers.map(exited));
    clearTimeout(timer);
  }
}

function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [key, n] of Object.entries(from)) into[key] = (into[key] ?? 0) + n;
}
