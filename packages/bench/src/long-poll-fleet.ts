// Simulated connected agents holding the goal-state long poll (docs/extensions.md, B11): one
// keep-alive TLS connection each, HTTP/1.1 written by hand and answers framed by Content-Length,
// so that thousands of them cost the benchmark process little and cost any server alike.
import { connect, createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import { inParallel, V } from './machine-fleet.js';
import { ResponseFramer } from './keep-alive-load.js';

const CONNECT_PARALLEL = 64;

export interface PollingMachine {
  /** `/subscriptions/…/machines/{m}`. */
  readonly path: string;
  readonly token: string;
}

export interface GoalStateAnswer {
  generation: number;
  extensions: { name: string; operation: { id: string; kind: string } | null }[];
}

export interface Delivery {
  /** performance.now() when the answer naming the operation arrived. */
  readonly at: number;
  readonly operationId: string;
}

/**
 * A fleet waiting for one extension's operation, however it learns of it: each machine's
 * delivery, the first failure, arming every machine CONNECT_PARALLEL at a time, and one TLS
 * context for every connection (a `ca` option would build one per connection, which costs more
 * than the handshake).
 */
export abstract class PushFleet {
  /** Per machine, once its goal state named the operation. */
  readonly deliveries: (Delivery | undefined)[];
  protected readonly context: SecureContext;
  /** Set by close(): what fails after it is the fleet closing, not the server. */
  protected closed = false;
  #pending: number;
  #failure: Error | undefined;
  #allDelivered: () => void = () => undefined;
  #failed: (error: Error) => void = () => undefined;
  readonly #done: Promise<void>;

  constructor(
    protected readonly machines: readonly PollingMachine[],
    ca: Buffer,
    /** What each machine holds, for messages: `long polls`, `channels`. */
    private readonly holding: string,
  ) {
    this.deliveries = new Array<Delivery | undefined>(machines.length);
    this.#pending = machines.length;
    this.context = createSecureContext({ ca });
    this.#done = new Promise<void>((resolve, reject) => {
      this.#allDelivered = resolve;
      this.#failed = reject;
    });
    this.#done.catch(() => undefined);
  }

  /** Connects every machine and has it wait (untimed); rejects as soon as any fails. */
  async arm(): Promise<void> {
    const failed = this.#done.then(() => undefined);
    await Promise.race([
      failed,
      inParallel(
        this.machines.length,
        (i) => this.start(i, this.machines[i] as PollingMachine),
        CONNECT_PARALLEL,
      ),
    ]);
  }

  /** Resolves when every machine has had its operation delivered; rejects after `timeoutMs`. */
  async delivered(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `${this.#pending} of ${this.machines.length} ${this.holding} had no delivery after ${timeoutMs} ms`,
            ),
          ),
        timeoutMs,
      );
    });
    try {
      await Promise.race([this.#done, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.closed = true;
    this.disconnect();
  }

  /** Connects one machine: resolves once it waits. */
  protected abstract start(index: number, machine: PollingMachine): Promise<void>;

  protected abstract disconnect(): void;

  protected deliver(index: number, delivery: Delivery): void {
    if (this.deliveries[index] !== undefined) return;
    this.deliveries[index] = delivery;
    if (--this.#pending === 0) this.#allDelivered();
  }

  protected fail(error: Error): void {
    if (this.#failure !== undefined || this.closed) return;
    this.#failure = error;
    this.#failed(error);
  }
}

/** The id of the operation a goal state's answer (JSON text) carries for `extension`, if any. */
export function operationNamed(text: string, extension: string): string | undefined {
  const answer = JSON.parse(text) as GoalStateAnswer;
  return answer.extensions.find((e) => e.name === extension)?.operation?.id;
}

export interface PollOptions {
  readonly port: number;
  readonly ca: Buffer;
  readonly waitSeconds: number;
  /** The extension whose operation each machine waits for. */
  readonly extension: string;
}

/**
 * A fleet's long polls. `arm()` connects every machine, asks for its goal state once (as an
 * agent does on start) and then holds `after=<generation>`; an answer without an operation for
 * `extension` (a wait that timed out, another change) is followed at once by the next poll.
 */
export class LongPollFleet extends PushFleet {
  #sockets: TLSSocket[] = [];

  constructor(
    machines: readonly PollingMachine[],
    private readonly options: PollOptions,
  ) {
    super(machines, options.ca, 'long polls');
  }

  protected disconnect(): void {
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets = [];
  }

  protected start(index: number, machine: PollingMachine): Promise<void> {
    const { port } = this.options;
    return new Promise<void>((resolve, reject) => {
      const socket = connect({
        host: '127.0.0.1',
        port,
        secureContext: this.context,
        servername: 'localhost',
      });
      this.#sockets.push(socket);
      const framer = new ResponseFramer();
      let armed = false;
      const poll = (after: number | undefined): void => {
        const query = after === undefined ? '' : `&after=${after}&wait=${this.options.waitSeconds}`;
        socket.write(
          `GET ${machine.path}/extensionGoalState?${V}${query} HTTP/1.1\r\n` +
            `Host: 127.0.0.1:${port}\r\nAuthorization: Bearer ${machine.token}\r\n` +
            `Connection: keep-alive\r\n\r\n`,
        );
      };
      socket.setNoDelay(true);
      socket.once('secureConnect', () => poll(undefined));
      socket.on('error', (error: Error) => {
        if (!armed) reject(error);
        else this.fail(new Error(`long poll of ${machine.path}: ${error.message}`));
      });
      socket.on('close', () => {
        if (armed && this.deliveries[index] === undefined) {
          this.fail(new Error(`the server closed the long poll of ${machine.path}`));
        }
      });
      socket.on('data', (chunk: Buffer) => {
        for (const response of framer.push(chunk)) {
          const at = performance.now();
          const body = response.body.toString('utf8');
          if (response.status !== 200) {
            const error = new Error(
              `goal state of ${machine.path} answered ${response.status}: ${body}`,
            );
            if (!armed) reject(error);
            else this.fail(error);
            return;
          }
          const operationId = operationNamed(body, this.options.extension);
          if (armed && operationId !== undefined) {
            this.deliver(index, { at, operationId });
            return;
          }
          poll((JSON.parse(body) as GoalStateAnswer).generation);
          if (!armed) {
            armed = true;
            resolve();
          }
        }
      });
    });
  }
}
