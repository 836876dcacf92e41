// One keep-alive TLS connection speaking HTTP/1.1 written by hand, one request in flight and the
// rest queued, answers framed by Content-Length (keep-alive-load.ts): what each simulated agent
// holds, so that tens of thousands of them cost the simulator's processes little.
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
}

interface Queued {
  raw: Buffer;
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
      this.#queue.push({ raw, resolve, reject });
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
    for (const p of pending) p.reject(this.#closed);
  }
}
