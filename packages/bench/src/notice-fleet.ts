// Simulated connected agents waiting for goal-state changes as agents do by default: each holds
// its agent channel (docs/agent-protocol.md#agent-channel), a `ws` client over TLS, and when a
// `goalStateChanged` frame names `extensions` it fetches its goal state at once (GET
// …/extensionGoalState, no `after`) over a keep-alive connection of a small pool the whole fleet
// shares (RawConnection: HTTP/1.1 written by hand, one request in flight on each).
import type { SecureContext } from 'node:tls';
import WebSocket from 'ws';
import { AGENT_CHANNEL_SEGMENT } from '@tether/protocol';
import { RawConnection } from './fleet/raw-connection.js';
import { operationNamed, PushFleet, type PollingMachine } from './long-poll-fleet.js';
import { V } from './machine-fleet.js';

export interface NoticeOptions {
  readonly port: number;
  readonly ca: Buffer;
  /** Keep-alive connections the fleet's fetches share. */
  readonly fetchConnections: number;
  /** The extension whose operation each machine waits for. */
  readonly extension: string;
}

/**
 * A machine's agent channel to 127.0.0.1:`port`, its certificate checked for `localhost` with
 * `tls` (a `secureContext`, or a `ca` for a single channel).
 */
export function openChannel(
  port: number,
  machine: PollingMachine,
  tls: { secureContext: SecureContext } | { ca: Buffer },
): WebSocket {
  // ws passes TLS options such as servername and secureContext on to tls.connect; its types
  // omit them.
  const options: WebSocket.ClientOptions & { servername: string } = {
    ...tls,
    servername: 'localhost',
    headers: { authorization: `Bearer ${machine.token}` },
    perMessageDeflate: false,
  };
  return new WebSocket(
    `wss://127.0.0.1:${port}${machine.path}/${AGENT_CHANNEL_SEGMENT}?${V}`,
    options,
  );
}

/**
 * What one machine does with the frames of its channel, apart from the socket: a fetch when a
 * notice names `extensions` (none for other services or frame types), never two at once, and
 * one more after the one in flight when a notice came meanwhile, so no change goes unseen.
 */
export class NoticeListener {
  #fetching = false;
  #again = false;
  #hello = false;

  constructor(private readonly fetch: () => void) {}

  /** True once the channel's hello has come. */
  get greeted(): boolean {
    return this.#hello;
  }

  /** A text frame of the channel. */
  frame(text: string): void {
    const frame = JSON.parse(text) as { type?: unknown; service?: unknown };
    if (frame.type === 'hello') this.#hello = true;
    else if (frame.type === 'goalStateChanged' && frame.service === 'extensions') this.start();
  }

  /** Fetches now, or after the fetch in flight. */
  start(): void {
    if (this.#fetching) {
      this.#again = true;
      return;
    }
    this.#fetching = true;
    this.#again = false;
    this.fetch();
  }

  /** The fetch in flight has been answered. */
  fetched(): void {
    this.#fetching = false;
    if (this.#again) this.start();
  }
}

/**
 * A fleet's channels. `arm()` opens every machine's channel, waits for its hello and fetches the
 * goal state once (as an agent does when a channel opens after none: a change made meanwhile
 * was not announced); from then on each notice fetches it, and the first answer naming an
 * operation of `extension` is that machine's delivery.
 */
export class NoticeFleet extends PushFleet {
  #channels: WebSocket[] = [];
  readonly #pool: RawConnection[] = [];
  #cursor = 0;

  constructor(
    machines: readonly PollingMachine[],
    private readonly options: NoticeOptions,
  ) {
    super(machines, options.ca, 'machines');
  }

  /** Resolves once every channel is open, greeted and its first fetch answered. */
  override async arm(): Promise<void> {
    for (let i = 0; i < this.options.fetchConnections; i++) {
      this.#pool.push(
        new RawConnection({ host: '127.0.0.1', port: this.options.port }, this.context),
      );
    }
    await super.arm();
  }

  protected disconnect(): void {
    for (const ws of this.#channels) ws.terminate();
    for (const connection of this.#pool) connection.destroy();
    this.#channels = [];
  }

  protected start(index: number, machine: PollingMachine): Promise<void> {
    const { port } = this.options;
    return new Promise<void>((resolve, reject) => {
      let armed = false;
      const fail = (error: Error): void => {
        if (!armed) reject(error);
        else this.fail(error);
      };
      const listener = new NoticeListener(() => {
        this.#fetch(machine).then(
          (text) => {
            const at = performance.now();
            const operationId = operationNamed(text, this.options.extension);
            if (armed && operationId !== undefined) this.deliver(index, { at, operationId });
            if (!armed) {
              armed = true;
              resolve();
            }
            listener.fetched();
          },
          (error: Error) => fail(error),
        );
      });
      const ws = openChannel(port, machine, { secureContext: this.context });
      this.#channels.push(ws);
      ws.once('unexpected-response', (_request, response) => {
        response.resume();
        ws.terminate();
        fail(new Error(`the channel of ${machine.path} was refused: ${response.statusCode ?? 0}`));
      });
      ws.on('error', (error: Error) =>
        fail(new Error(`channel of ${machine.path}: ${error.message}`)),
      );
      ws.on('close', (code: number) => {
        if (this.deliveries[index] === undefined) {
          fail(new Error(`the server closed the channel of ${machine.path} (${code})`));
        }
      });
      ws.on('message', (data: Buffer) => {
        const greeted = listener.greeted;
        listener.frame(data.toString('utf8'));
        // The first fetch, once the hello says the channel announces changes.
        if (!greeted && listener.greeted) listener.start();
      });
    });
  }

  /**
   * The next idle connection of the pool, taken in turn so that none sits idle long enough for
   * the server to close it, or the least busy when none is idle; one the server closed anyway
   * (its keep-alive timeout) is replaced by a new one.
   */
  #connection(): RawConnection {
    const pool = this.#pool;
    let best: RawConnection | undefined;
    for (let k = 0; k < pool.length; k++) {
      const i = (this.#cursor + k) % pool.length;
      let connection = pool[i] as RawConnection;
      if (connection.closed) {
        connection = new RawConnection(
          { host: '127.0.0.1', port: this.options.port },
          this.context,
        );
        pool[i] = connection;
      }
      if (connection.load === 0) {
        this.#cursor = i + 1;
        return connection;
      }
      if (best === undefined || connection.load < best.load) best = connection;
    }
    return best as RawConnection;
  }

  /** The machine's goal state over a connection of the pool: its body's text. */
  async #fetch(machine: PollingMachine): Promise<string> {
    const connection = this.#connection();
    const answer = await connection.request({
      method: 'GET',
      path: `${machine.path}/extensionGoalState?${V}`,
      headers: { authorization: `Bearer ${machine.token}` },
    });
    const text = answer.body.toString('utf8');
    if (answer.status !== 200) {
      throw new Error(`goal state of ${machine.path} answered ${answer.status}: ${text}`);
    }
    return text;
  }
}
