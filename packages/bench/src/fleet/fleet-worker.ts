// A worker process of the fleet simulator: its share of the simulated machines, each speaking the
// agent's protocol with its own key — a token by client assertion, heartbeats on a schedule, and
// either the extension goal-state long poll held on a connection of its own or, as agents do
// when the control plane announces changes, the agent channel held open and the goal state
// fetched when a notice says it changed — and moving to another node when its own goes away,
// with the agent's full-jitter backoff.
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
import { DEFAULT_BACKOFF, fullJitterDelay, retryAfterDelay } from '@tether/agent/himds/backoff';
import { ConnectPacer } from './connect-pacer.js';
import { headerOf, type FramedResponse } from '../keep-alive-load.js';
import { inParallel, V } from '../machine-fleet.js';
import type {
  FromWorker,
  SimulatedMachine,
  ToWorker,
  WorkerSetup,
  WorkerStats,
} from './fleet-protocol.js';
import { machineTokenForm } from './machine-token.js';
import { ConnectionLost, RawConnection, REQUEST_TIMEOUT_MS } from './raw-connection.js';
import { DEFAULT_AGENT_CONFIGURATION } from '@tether/protocol';
import WebSocket from 'ws';

const PARALLEL = 64;
/** How long a node whose connection failed is avoided by this worker's machines. */
const NODE_DOWN_MS = 30_000;

interface Sim {
  readonly machine: SimulatedMachine;
  readonly key: KeyObject;
  readonly index: number;
  node: number;
  token: string;
  poll: RawConnection | undefined;
  polling: boolean;
  generation: number | undefined;
  heartbeatInFlight: boolean;
  lostAt: number | undefined;
  lostFrom: number;
  /** Consecutive failures of the long poll (and token requests), for its backoff. */
  failures: number;
  /** Consecutive failures of heartbeats, for theirs: each service backs off on its own. */
  beatFailures: number;
  /** Its agent channel, once a heartbeat opened it (with `setup.channel`) or it started. */
  channel: SimChannel | undefined;
  /** A goal-state fetch is in flight; `fetchAgain`: a notice came meanwhile. */
  fetching: boolean;
  fetchAgain: boolean;
}

interface SimChannel {
  readonly ws: WebSocket;
  readonly node: number;
  readonly token: string;
  readonly ready: Promise<void>;
  /** Settles with the control plane's hello frame: what the channel announces. */
  readonly hello: Promise<readonly string[]>;
  /** The frame waiting for its answer: one at a time, as the agent sends them. */
  waiting: ((answer: FrameAnswer | Error) => void) | undefined;
  /** Closed from this side. */
  dropped: boolean;
}

/** The upgrade was answered with an HTTP status instead. */
class ChannelRefused extends ConnectionLost {
  constructor(
    readonly status: number,
    readonly retryAfter: string | undefined,
  ) {
    super(`channel refused: ${status}`);
  }
}

/** A channel the control plane closed is opened again after up to this long, at random. */
const REOPEN_SPREAD_MS = 30_000;

/** A frame's answer as the POST's would be read: status, body or error, Retry-After. */
interface FrameAnswer {
  status: number;
  text: string;
  retryAfter?: string | undefined;
}

const HEARTBEAT_BODY = (name: string): string =>
  JSON.stringify({
    agentVersion: '1.0',
    osName: 'linux',
    osType: 'linux',
    osVersion: '24.04',
    machineFqdn: `${name}.fleet.test`,
    serviceStatuses: {
      himds: { status: 'running', startupType: 'automatic' },
      gcarcservice: { status: 'running', startupType: 'automatic' },
      extensionservice: { status: 'running', startupType: 'automatic' },
    },
    agentConfiguration: DEFAULT_AGENT_CONFIGURATION,
  });

class Worker {
  readonly #context: SecureContext;
  readonly #sims: Sim[];
  readonly #shared: RawConnection[][];
  /**
   * Token requests' own keep-alive connections: one request is in flight on a connection at a
   * time, so heartbeats queued behind a fleet's tokens would time the queue, not the node.
   */
  readonly #tokenShared: RawConnection[][];
  readonly #downUntil: number[];
  readonly #timers = new Set<NodeJS.Timeout>();
  #intervalMs = 0;
  readonly #ticks: NodeJS.Timeout[] = [];
  #stopped = false;
  #stats = emptyStats();
  readonly #acknowledged: Record<string, number> = {};
  readonly #operations: Record<string, string[]> = {};
  readonly #deliveries: Record<string, Record<string, number>> = {};
  /** Paces starts (token requests, polls on a new connection) when the setup caps their rate. */
  readonly #pacer: ConnectPacer | undefined;

  constructor(private readonly setup: WorkerSetup) {
    this.#pacer =
      setup.connectsPerSecond > 0
        ? new ConnectPacer({
            maxPerSecond: setup.connectsPerSecond,
            minPerSecond: Math.max(0.5, setup.connectsPerSecond / 20),
          })
        : undefined;
    this.#context = createSecureContext({ ca: setup.ca });
    this.#shared = setup.nodes.map(() => []);
    this.#tokenShared = setup.nodes.map(() => []);
    this.#downUntil = setup.nodes.map(() => 0);
    this.#sims = setup.machines.map((machine, index) => ({
      machine,
      key: createPrivateKey(machine.keyPem),
      index,
      node: (setup.workerIndex + index) % setup.nodes.length,
      token: '',
      poll: undefined,
      polling: false,
      generation: undefined,
      heartbeatInFlight: false,
      lostAt: undefined,
      lostFrom: 0,
      failures: 0,
      beatFailures: 0,
      channel: undefined,
      fetching: false,
      fetchAgain: false,
    }));
  }

  /** Where start() has got: the time each phase has taken so far. */
  readonly progress = { tokenMs: 0, armMs: 0 };

  async start(): Promise<{ tokenMs: number; armMs: number }> {
    const waits = this.setup.longPoll || this.setup.notices;
    if (waits && this.setup.machineByMachine) return this.#startEach();
    // A long start (tens of thousands of machines) says how far it has got every 30 s.
    let phase = 'tokens';
    let done = 0;
    const progress = setInterval(() => {
      process.stderr.write(
        `fleet worker ${this.setup.workerIndex}: ${phase} ${done} of ${this.#sims.length}\n`,
      );
    }, 30_000);
    try {
      let started = performance.now();
      const tick = setInterval(() => {
        if (phase === 'tokens') this.progress.tokenMs = performance.now() - started;
        else this.progress.armMs = performance.now() - started;
      }, 1000);
      tick.unref();
      this.#ticks.push(tick);
      await inParallel(
        this.#sims.length,
        async (i) => {
          await this.#token(this.#sims[i] as Sim);
          done++;
        },
        PARALLEL,
      );
      const tokenMs = performance.now() - started;
      this.progress.tokenMs = tokenMs;
      started = performance.now();
      if (waits) {
        phase = this.setup.notices ? 'channels' : 'long polls';
        done = 0;
        await inParallel(
          this.#sims.length,
          async (i) => {
            await this.#arm(this.#sims[i] as Sim);
            done++;
          },
          PARALLEL,
        );
      }
      return { tokenMs, armMs: performance.now() - started };
    } finally {
      clearInterval(progress);
      for (const tick of this.#ticks) clearInterval(tick);
    }
  }

  /**
   * Each machine gets its token and then arms its long poll, as an agent starting does, so the
   * polls held grow from the start. tokenMs: until the last token; armMs: from then on.
   */
  async #startEach(): Promise<{ tokenMs: number; armMs: number }> {
    const started = performance.now();
    let tokens = 0;
    let polls = 0;
    let lastToken = started;
    const total = this.#sims.length;
    const measure = (): void => {
      const now = performance.now();
      this.progress.tokenMs = (tokens === total ? lastToken : now) - started;
      this.progress.armMs = tokens === total ? now - lastToken : 0;
    };
    const progress = setInterval(() => {
      measure();
      process.stderr.write(
        `fleet worker ${this.setup.workerIndex}: tokens ${tokens}, long polls ${polls} of ${total}\n`,
      );
    }, 30_000);
    const tick = setInterval(measure, 1000);
    try {
      await inParallel(
        total,
        async (i) => {
          const sim = this.#sims[i] as Sim;
          await this.#token(sim);
          tokens++;
          lastToken = performance.now();
          await this.#arm(sim);
          polls++;
        },
        PARALLEL,
      );
      measure();
      return { ...this.progress };
    } finally {
      clearInterval(progress);
      clearInterval(tick);
    }
  }

  heartbeats(intervalMs: number): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#intervalMs = intervalMs;
    if (intervalMs <= 0) return;
    const count = this.#sims.length;
    this.#sims.forEach((sim, i) => {
      // Phases spread evenly over the interval, as agents started at different times are.
      this.#later(((i + Math.random()) / count) * intervalMs, () => this.#beat(sim));
    });
  }

  stats(reset: boolean): WorkerStats {
    const pollsHeld = this.setup.nodes.map(() => 0);
    for (const sim of this.#sims)
      if (sim.polling) pollsHeld[sim.node] = (pollsHeld[sim.node] ?? 0) + 1;
    const stats: WorkerStats = {
      ...this.#stats,
      pollsHeld,
      acknowledged: { heartbeats: { ...this.#acknowledged } },
      operations: { ...this.#operations },
      deliveries: { ...this.#deliveries },
    };
    if (reset) this.#stats = emptyStats();
    return stats;
  }

  stop(): void {
    this.#stopped = true;
    this.heartbeats(0);
    for (const sim of this.#sims) {
      sim.poll?.destroy();
      if (sim.channel !== undefined) this.#drop(sim.channel);
    }
    for (const pool of [...this.#shared, ...this.#tokenShared]) for (const c of pool) c.destroy();
  }

  #later(ms: number, work: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (!this.#stopped) work();
    }, ms);
    this.#timers.add(timer);
  }

  /** The least busy of this worker's keep-alive connections to a node (of `pools`). */
  #connection(node: number, pools = this.#shared): RawConnection {
    const pool = pools[node] as RawConnection[];
    for (let i = pool.length - 1; i >= 0; i--) if (pool[i]?.closed === true) pool.splice(i, 1);
    if (pool.length < this.setup.sharedConnections) {
      const fresh = new RawConnection(
        this.setup.nodes[node] as RawConnection['endpoint'],
        this.#context,
      );
      pool.push(fresh);
      return fresh;
    }
    return pool.reduce((a, b) => (b.load < a.load ? b : a));
  }

  async #send(
    sim: Sim,
    request: Parameters<RawConnection['request']>[0],
    pools = this.#shared,
  ): Promise<FramedResponse> {
    return this.#connection(sim.node, pools).request(request);
  }

  async #token(sim: Sim): Promise<void> {
    const { machine } = sim;
    for (;;) {
      const form = new URLSearchParams(
        await machineTokenForm(machine, sim.key, this.setup.publicUrl, this.setup.tenantId),
      ).toString();
      let retryAfter: number | undefined;
      await this.#pacer?.slot();
      const started = performance.now();
      try {
        const answer = await this.#send(
          sim,
          {
            method: 'POST',
            path: `/${this.setup.tenantId}/oauth2/v2.0/token`,
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: form,
          },
          this.#tokenShared,
        );
        retryAfter = this.#busy(answer, performance.now() - started);
        if (answer.status === 200) {
          sim.token = (
            JSON.parse(answer.body.toString('utf8')) as { access_token: string }
          ).access_token;
          return;
        }
        if (answer.status < 500) {
          throw new Error(
            `token for ${machine.name} answered ${answer.status}: ${answer.body.toString('utf8')}`,
          );
        }
      } catch (error) {
        if (!(error instanceof ConnectionLost)) throw error;
        this.#lost(sim);
      }
      sim.failures++;
      await sleep(retryAfter ?? fullJitterDelay(sim.failures, DEFAULT_BACKOFF, Math.random));
    }
  }

  /**
   * What an answer to a start tells the pacer; for a 503, the wait its Retry-After asks for
   * (jittered, as the agent waits it), or undefined when the agent's own backoff applies.
   */
  #busy(answer: FramedResponse, ms: number): number | undefined {
    if (answer.status === 503) {
      this.#pacer?.busy();
      this.#stats.busyAnswers++;
      return retryAfterDelay(headerOf(answer.head, 'retry-after'), Date.now(), Math.random);
    }
    this.#pacer?.answered(ms);
    return undefined;
  }

  #beat(sim: Sim): void {
    if (this.#intervalMs <= 0) return;
    if (sim.heartbeatInFlight) {
      this.#later(this.#intervalMs, () => this.#beat(sim));
      return;
    }
    sim.heartbeatInFlight = true;
    const sentAt = Date.now();
    const started = performance.now();
    const node = sim.node;
    const sent: Promise<{ status: number; text: string; retryAfter?: string | undefined }> = this
      .setup.channel
      ? this.#frame(sim)
      : this.#send(sim, {
          method: 'POST',
          path: `${sim.machine.path}/heartbeat?${V}`,
          headers: { authorization: `Bearer ${sim.token}`, 'content-type': 'application/json' },
          body: HEARTBEAT_BODY(sim.machine.name),
        }).then((answer) => ({
          status: answer.status,
          text: answer.body.toString('utf8'),
          retryAfter: headerOf(answer.head, 'retry-after'),
        }));
    sent.then(
      async (answer) => {
        sim.heartbeatInFlight = false;
        if (answer.status === 200) {
          this.#stats.heartbeatsOk++;
          this.#stats.heartbeatLatencies.push(performance.now() - started);
          this.#acknowledged[sim.machine.name] = sentAt;
          this.#back(sim, node);
          this.#later(this.#intervalMs, () => this.#beat(sim));
          return;
        }
        count(this.#stats.heartbeatFailures, answer.status);
        this.#sample(answer);
        let retryAfter: number | undefined;
        if (answer.status === 503) {
          if (this.#stats.retryAfter.length < 100)
            this.#stats.retryAfter.push(answer.retryAfter ?? '');
          retryAfter = retryAfterDelay(answer.retryAfter, Date.now(), Math.random);
        }
        if (answer.status === 401) await this.#token(sim).catch(() => undefined);
        this.#retry(sim, retryAfter);
      },
      () => {
        sim.heartbeatInFlight = false;
        count(this.#stats.heartbeatFailures, 0);
        this.#lost(sim);
        this.#retry(sim);
      },
    );
  }

  /**
   * One heartbeat frame over the machine's agent channel, opened first when it has none (or one
   * to another node, or with an older token); an error frame is the POST's status and error.
   */
  async #frame(sim: Sim): Promise<FrameAnswer> {
    const open = this.#channel(sim);
    await open.ready;
    const answer = await new Promise<FrameAnswer | Error>((resolve) => {
      open.waiting = resolve;
      open.ws.send(
        `{"type":"heartbeat","id":${sim.index},"body":${HEARTBEAT_BODY(sim.machine.name)}}`,
      );
    });
    if (answer instanceof Error) throw answer;
    return answer;
  }

  /**
   * The machine's open channel, or a new one when it has none (or one to another node, or with
   * an older token), which replaces the old.
   */
  #channel(sim: Sim): SimChannel {
    const channel = sim.channel;
    if (channel !== undefined && channel.node === sim.node && channel.token === sim.token)
      return channel;
    if (channel !== undefined) this.#drop(channel);
    return this.#openChannel(sim);
  }

  #drop(channel: SimChannel): void {
    channel.dropped = true;
    channel.ws.terminate();
  }

  #openChannel(sim: Sim): SimChannel {
    const endpoint = this.setup.nodes[sim.node] as RawConnection['endpoint'];
    const addresses = this.setup.sourceAddresses;
    // One TLS context for all (the `ca` option would build one per connection), and each
    // channel from one of the source addresses, as the long polls are, so that ports last.
    const options = {
      secureContext: this.#context,
      servername: 'localhost',
      headers: { authorization: `Bearer ${sim.token}` },
      perMessageDeflate: false,
      ...(addresses.length === 0 ? {} : { localAddress: addresses[sim.index % addresses.length] }),
    } as WebSocket.ClientOptions;
    const ws = new WebSocket(
      `wss://${endpoint.host}:${endpoint.port}${sim.machine.path}/agentChannel?${V}`,
      options,
    );
    let said!: (notices: readonly string[]) => void;
    let failed!: (error: Error) => void;
    const hello = new Promise<readonly string[]>((resolve, reject) => {
      said = resolve;
      failed = reject;
    });
    const ready = new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_request, response) => {
        response.resume();
        ws.terminate();
        const retryAfter = response.headers['retry-after'];
        reject(new ChannelRefused(response.statusCode ?? 0, retryAfter));
      });
      ws.once('error', (error) => reject(new ConnectionLost(error.message)));
      ws.once('close', () => reject(new ConnectionLost('channel closed')));
    });
    ready.catch(failed);
    hello.catch(() => undefined);
    const channel: SimChannel = {
      ws,
      node: sim.node,
      token: sim.token,
      ready,
      hello,
      waiting: undefined,
      dropped: false,
    };
    ws.on('error', () => undefined);
    ws.on('message', (data: Buffer) => {
      const text = data.toString('utf8');
      const frame = JSON.parse(text) as {
        type?: string;
        notices?: string[];
        service?: string;
        status?: number;
        body?: unknown;
        error?: unknown;
        retryAfter?: string;
      };
      if (frame.type === 'hello') {
        said(frame.notices ?? []);
        return;
      }
      if (frame.type === 'goalStateChanged') {
        if (frame.service === 'extensions' && this.setup.notices) this.#fetch(sim);
        return;
      }
      const waiting = channel.waiting;
      channel.waiting = undefined;
      waiting?.({
        status: frame.status ?? 0,
        text: JSON.stringify(frame.error ?? frame.body ?? null),
        retryAfter: frame.retryAfter,
      });
    });
    ws.once('close', (code: number) => {
      failed(new ConnectionLost(`channel closed (${code}) before its hello`));
      if (sim.channel === channel) sim.channel = undefined;
      const waiting = channel.waiting;
      channel.waiting = undefined;
      waiting?.(new ConnectionLost(`channel closed (${code})`));
      // Closed by the control plane (a stopping node, an expired token): an agent listening for
      // notices opens another soon, spread out, rather than at its next heartbeat.
      if (this.setup.notices && !channel.dropped && !this.#stopped) {
        sim.polling = false;
        if (code === 4401) sim.token = '';
        setTimeout(
          () => void this.#listen(sim).catch(() => undefined),
          Math.random() * REOPEN_SPREAD_MS,
        );
      }
    });
    sim.channel = channel;
    return channel;
  }

  /** How a machine waits for changes to its goal state: a long poll, or notices on its channel. */
  #arm(sim: Sim): Promise<void> {
    return this.setup.notices ? this.#listen(sim) : this.#firstPoll(sim);
  }

  /**
   * Opens the machine's channel (paced as a poll on a new connection is), waits for its hello
   * and fetches the goal state once, as the agent does after a time without a channel: changes
   * made then were not announced. Tried again with the agent's backoff until it is open.
   */
  async #listen(sim: Sim): Promise<void> {
    for (;;) {
      if (this.#stopped) return;
      if (sim.token === '') await this.#token(sim);
      await this.#pacer?.slot();
      const started = performance.now();
      const node = sim.node;
      let retryAfter: number | undefined;
      try {
        const channel = this.#channel(sim);
        await channel.hello;
        this.#pacer?.answered(performance.now() - started);
        if (sim.channel !== channel) continue;
        sim.polling = true;
        this.#back(sim, node);
        this.#fetch(sim);
        return;
      } catch (error) {
        if (!(error instanceof ConnectionLost)) throw error;
        count(this.#stats.pollFailures, error instanceof ChannelRefused ? error.status : 0);
        if (error instanceof ChannelRefused && error.status === 503) {
          this.#pacer?.busy();
          this.#stats.busyAnswers++;
          retryAfter = retryAfterDelay(error.retryAfter, Date.now(), Math.random);
        } else if (error instanceof ChannelRefused && error.status === 401) {
          sim.token = '';
        } else if (error instanceof ChannelRefused && error.status < 500) {
          throw new Error(`the channel of ${sim.machine.name} was refused: ${error.status}`);
        } else {
          this.#lost(sim);
        }
      }
      sim.failures++;
      await sleep(retryAfter ?? fullJitterDelay(sim.failures, DEFAULT_BACKOFF, Math.random));
    }
  }

  /**
   * The goal state at once (no `after`), over the shared connections: what an agent does when
   * told it changed. A notice during a fetch fetches again after it.
   */
  #fetch(sim: Sim): void {
    if (sim.fetching) {
      sim.fetchAgain = true;
      return;
    }
    sim.fetching = true;
    sim.fetchAgain = false;
    const node = sim.node;
    this.#send(sim, {
      method: 'GET',
      path: `${sim.machine.path}/extensionGoalState?${V}`,
      headers: { authorization: `Bearer ${sim.token}` },
    }).then(
      (answer) => {
        sim.fetching = false;
        if (answer.status === 200) {
          this.#stats.pollAnswers++;
          this.#carried(sim, answer.body.toString('utf8'));
          this.#back(sim, node);
          if (sim.fetchAgain) this.#fetch(sim);
          return;
        }
        count(this.#stats.pollFailures, answer.status);
        this.#sample({ status: answer.status, text: answer.body.toString('utf8') });
        const retryAfter =
          answer.status === 503
            ? retryAfterDelay(headerOf(answer.head, 'retry-after'), Date.now(), Math.random)
            : undefined;
        sim.failures++;
        setTimeout(
          () => {
            if (this.#stopped) return;
            if (answer.status === 401)
              void this.#token(sim).then(
                () => this.#fetch(sim),
                () => undefined,
              );
            else this.#fetch(sim);
          },
          retryAfter ?? fullJitterDelay(sim.failures, DEFAULT_BACKOFF, Math.random),
        );
      },
      () => {
        sim.fetching = false;
        if (this.#stopped) return;
        count(this.#stats.pollFailures, 0);
        sim.failures++;
        setTimeout(
          () => this.#stopped || this.#fetch(sim),
          fullJitterDelay(sim.failures, DEFAULT_BACKOFF, Math.random),
        );
      },
    );
  }

  /** A goal state's answer: its generation, and the operations it carried, first seen when. */
  #carried(sim: Sim, text: string): void {
    const goal = JSON.parse(text) as {
      generation: number;
      extensions?: { name: string; operation: unknown }[];
    };
    sim.generation = goal.generation;
    const carried = (goal.extensions ?? []).filter((e) => e.operation != null).map((e) => e.name);
    this.#operations[sim.machine.name] = carried;
    const delivered = (this.#deliveries[sim.machine.name] ??= {});
    for (const name of carried) delivered[name] ??= Date.now();
  }

  #sample(answer: { status: number; text: string }): void {
    if (this.#stats.failureSamples.length < 20)
      this.#stats.failureSamples.push(`${answer.status} ${answer.text.slice(0, 500)}`);
  }

  /**
   * A failed heartbeat is tried again after the agent's backoff, not a whole interval later, or
   * after the wait a 503's Retry-After asked for.
   */
  #retry(sim: Sim, retryAfterMs?: number): void {
    sim.beatFailures++;
    const delay = Math.min(
      this.#intervalMs,
      retryAfterMs ?? fullJitterDelay(sim.beatFailures, DEFAULT_BACKOFF, Math.random),
    );
    this.#later(delay, () => this.#beat(sim));
  }

  /** The machine's node failed it: note when, and move it to another node if one is up. */
  #lost(sim: Sim): void {
    const now = Date.now();
    if (sim.lostAt === undefined) {
      sim.lostAt = now;
      sim.lostFrom = sim.node;
    }
    this.#downUntil[sim.node] = now + NODE_DOWN_MS;
    // Another node, one not seen failing lately if there is one: never the one that just failed,
    // unless it is the only one.
    const others = this.setup.nodes.map((_, i) => i).filter((i) => i !== sim.node);
    const up = others.filter((i) => (this.#downUntil[i] ?? 0) <= now);
    const choices = up.length > 0 ? up : others;
    if (choices.length > 0)
      sim.node = choices[Math.floor(Math.random() * choices.length)] as number;
  }

  /** Served 2xx by `node`: a machine that had lost its node is back. */
  #back(sim: Sim, node: number): void {
    sim.failures = 0;
    sim.beatFailures = 0;
    if (sim.lostAt === undefined) return;
    this.#stats.reconnects.push({
      lostAt: sim.lostAt,
      backAt: Date.now(),
      from: sim.lostFrom,
      to: node,
    });
    sim.lostAt = undefined;
  }

  #firstPoll(sim: Sim): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#poll(sim, () => resolve(), reject);
    });
  }

  /**
   * Holds the machine's long poll: asks for its goal state, then waits for the next. A poll that
   * needs a new connection waits for the pacer first.
   */
  #poll(sim: Sim, armed?: () => void, failed?: (error: Error) => void, paced = false): void {
    if (this.#stopped) return;
    const addresses = this.setup.sourceAddresses;
    const reuse =
      sim.poll !== undefined &&
      !sim.poll.closed &&
      sim.poll.endpoint === this.setup.nodes[sim.node];
    if (!reuse && !paced && this.#pacer !== undefined) {
      void this.#pacer.slot().then(() => this.#poll(sim, armed, failed, true));
      return;
    }
    const connection = reuse
      ? (sim.poll as RawConnection)
      : new RawConnection(
          this.setup.nodes[sim.node] as RawConnection['endpoint'],
          this.#context,
          addresses.length === 0 ? undefined : addresses[sim.index % addresses.length],
        );
    if (connection !== sim.poll) sim.poll?.destroy();
    sim.poll = connection;
    const node = sim.node;
    const query =
      sim.generation === undefined
        ? ''
        : `&after=${sim.generation}&wait=${this.setup.pollWaitSeconds}`;
    sim.polling = sim.generation !== undefined;
    const started = performance.now();
    const request = connection.request({
      method: 'GET',
      path: `${sim.machine.path}/extensionGoalState?${V}${query}`,
      headers: { authorization: `Bearer ${sim.token}` },
      // A held poll is answered by its wait at the latest.
      timeoutMs: (query === '' ? 0 : this.setup.pollWaitSeconds * 1000) + REQUEST_TIMEOUT_MS,
    });
    if (sim.generation !== undefined) armed?.();
    request.then(
      async (answer) => {
        sim.polling = false;
        // Only an immediate answer (no after) tells how quickly the node takes a start.
        const retryAfter =
          query === '' || answer.status === 503
            ? this.#busy(answer, performance.now() - started)
            : undefined;
        if (answer.status === 200) {
          if (query !== '') this.#stats.pollAnswers++;
          this.#carried(sim, answer.body.toString('utf8'));
          this.#back(sim, node);
          this.#poll(sim, armed, failed);
          return;
        }
        count(this.#stats.pollFailures, answer.status);
        this.#sample({ status: answer.status, text: answer.body.toString('utf8') });
        if (answer.status === 401) await this.#token(sim).catch(() => undefined);
        else if (answer.status < 500 && armed !== undefined && sim.generation === undefined) {
          failed?.(
            new Error(
              `goal state of ${sim.machine.name} answered ${answer.status}: ${answer.body.toString('utf8')}`,
            ),
          );
          return;
        }
        sim.failures++;
        await sleep(retryAfter ?? fullJitterDelay(sim.failures, DEFAULT_BACKOFF, Math.random));
        this.#poll(sim, armed, failed);
      },
      async () => {
        sim.polling = false;
        if (this.#stopped) return;
        count(this.#stats.pollFailures, 0);
        this.#lost(sim);
        // On a new connection the agent asks for its goal state afresh, as it does on start:
        // it may have missed changes meanwhile.
        sim.generation = undefined;
        sim.failures++;
        await sleep(fullJitterDelay(sim.failures, DEFAULT_BACKOFF, Math.random));
        this.#poll(sim, armed, failed);
      },
    );
  }
}

function emptyStats(): Omit<
  WorkerStats,
  'pollsHeld' | 'acknowledged' | 'operations' | 'deliveries'
> & {
  heartbeatsOk: number;
  pollAnswers: number;
  busyAnswers: number;
} {
  return {
    heartbeatsOk: 0,
    heartbeatFailures: {},
    failureSamples: [],
    retryAfter: [],
    heartbeatLatencies: [],
    pollAnswers: 0,
    pollFailures: {},
    reconnects: [],
    busyAnswers: 0,
  };
}

function count(counts: Record<string, number>, status: number): void {
  counts[String(status)] = (counts[String(status)] ?? 0) + 1;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function send(message: FromWorker): void {
  process.send?.(message);
}

let worker: Worker | undefined;
process.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'setup': {
      const started = new Worker(message.setup);
      worker = started;
      // Past the time allowed, the worker says how far it has got and goes on connecting.
      let answered = false;
      const budget =
        message.setup.startWithinMs > 0
          ? setTimeout(() => {
              answered = true;
              send({ type: 'ready', ...started.progress, partial: true });
            }, message.setup.startWithinMs)
          : undefined;
      started.start().then(
        (timing) => {
          clearTimeout(budget);
          if (!answered) send({ type: 'ready', ...timing, partial: false });
        },
        (error: unknown) => {
          clearTimeout(budget);
          const text = error instanceof Error ? error.message : String(error);
          if (!answered) send({ type: 'error', message: text });
          else process.stderr.write(`fleet worker: ${text}\n`);
        },
      );
      break;
    }
    case 'heartbeats':
      worker?.heartbeats(message.intervalMs);
      break;
    case 'stats':
      if (worker !== undefined) send({ type: 'stats', stats: worker.stats(message.reset) });
      break;
    case 'stop':
      worker?.stop();
      process.disconnect();
      break;
  }
});
