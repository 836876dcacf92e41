// One keep-alive TLS connection speaking HTTP/1.1 written by hand, one request in flight and the
// rest queued, answers framed by Content-Length (keep-alive-load.ts): what each simulated agent
// holds, so that tens of thousands of them cost the simulator's processes little. An answer that
// does not come in time loses the connection (ConnectionLost), as an agent's call times out.
import { connect, type SecureContext, type TLSSocket } from 'node:tls';
import { ResponseFramer, type FramedResponse } from '../keep-alive-load.js';

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export interface RawRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /**
   * How long the answer may take from when the request is made, connecting included
   * (REQUEST_TIMEOUT_MS by default); past it the connection is given up, as an agent gives up
   * its own.
   */
  timeoutMs?: number;
}

/** An agent's own default for a call to the control plane. */
export const REQUEST_TIMEOUT_MS = 30_000;

interface Queued {
  raw: Buffer;
  /** Runs out from when the request is made: connecting and queueing count, as for an agent. */
  timer: NodeJS.Timeout;
  resolve(response: FramedResponse): void;
  reject(error: Error): void;
}

export class ConnectionLost extends Error {}

export class RawConnection {
  readonly #socket: TLSSocket;
  readonly #framer = new ResponseFramer();
  readonly #queue: Queued[] = [];
  #inFlight: Queued | undefined;
  #secure = false;
  #closed: Error | undefined;

  constructor(
    readonly endpoint: Endpoint,
    context: SecureContext,
    localAddress?: string,
  ) {
    this.#socket = connect({
      host: endpoint.host,
      port: endpoint.port,
      secureContext: context,
      servername: 'localhost',
      ...(localAddress === undefined ? {} : { localAddress }),
    });
    this.#socket.setNoDelay(true);
    this.#socket.on('secureConnect', () => {
      this.#secure = true;
      this.#next();
    });
    this.#socket.on('error', (error: Error) => this.#close(error));
    this.#socket.on('close', () => this.#close(new ConnectionLost('connection closed')));
    this.#socket.on('data', (chunk: Buffer) => {
      for (const response of this.#framer.push(chunk)) {
        const done = this.#inFlight;
        this.#inFlight = undefined;
        clearTimeout(done?.timer);
        done?.resolve(response);
        // A server that answers and closes ("connection: close") takes no further request.
        if (/\r\nconnection:\s*close/i.test(response.head)) {
          this.#close(new ConnectionLost('the server closed the connection'));
          return;
        }
      }
      this.#next();
    });
  }

  get closed(): boolean {
    return this.#closed !== undefined;
  }

  /** Requests waiting or in flight. */
  get load(): number {
    return this.#queue.length + (this.#inFlight === undefined ? 0 : 1);
  }

  request(request: RawRequest): Promise<FramedResponse> {
    if (this.#closed !== undefined) return Promise.reject(this.#closed);
    const body = request.body ?? '';
    const headers = {
      host: `${this.endpoint.host}:${this.endpoint.port}`,
      connection: 'keep-alive',
      ...(request.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }),
      ...request.headers,
    };
    const head = Object.entries(headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    const raw = Buffer.from(`${request.method} ${request.path} HTTP/1.1\r\n${head}\r\n${body}`);
    return new Promise((resolve, reject) => {
      const timeoutMs = request.timeoutMs ?? REQUEST_TIMEOUT_MS;
      const timer = setTimeout(
        () => this.#close(new ConnectionLost(`no answer within ${timeoutMs / 1000} s`)),
        timeoutMs,
      );
      this.#queue.push({ raw, timer, resolve, reject });
      this.#next();
    });
  }

  destroy(): void {
    this.#socket.destroy();
    this.#close(new ConnectionLost('connection closed by the client'));
  }

  #next(): void {
    if (this.#inFlight !== undefined || !this.#secure || this.#closed !== undefined) return;
    const queued = this.#queue.shift();
    if (queued === undefined) return;
    this.#inFlight = queued;
    this.#socket.write(queued.raw);
  }

  #close(error: Error): void {
    if (this.#closed !== undefined) return;
    this.#closed = error instanceof ConnectionLost ? error : new ConnectionLost(error.message);
    this.#socket.destroy();
    const pending = [...(this.#inFlight === undefined ? [] : [this.#inFlight]), ...this.#queue];
    this.#inFlight = undefined;
    this.#queue.length = 0;
    for (const p of pending) {
      clearTimeout(p.timer);
      p.reject(this.#closed);
    }
  }
}
