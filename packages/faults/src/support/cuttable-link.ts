// A TCP relay between an agent and the control plane that a fault cuts and restores: cut, every
// connection through it is reset and new ones are dropped as they arrive, as when the network
// between the machine and the control plane goes away; TLS passes through untouched.
import { connect, createServer, type Server, type Socket } from 'node:net';

export class CuttableLink {
  #cut = false;
  readonly #sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private targetPort: number | undefined,
  ) {
    server.on('connection', (client) => this.#relay(client));
  }

  /** Listens on an ephemeral port of 127.0.0.1; `target` may be given later (the server's port). */
  static async start(targetPort?: number): Promise<CuttableLink> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    return new CuttableLink(server, port, targetPort);
  }

  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  set target(port: number) {
    this.targetPort = port;
  }

  get isCut(): boolean {
    return this.#cut;
  }

  cut(): void {
    this.#cut = true;
    for (const socket of this.#sockets) socket.resetAndDestroy();
    this.#sockets.clear();
  }

  restore(): void {
    this.#cut = false;
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  #relay(client: Socket): void {
    if (this.#cut || this.targetPort === undefined) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(this.targetPort, '127.0.0.1');
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.#sockets.add(from);
      from.pipe(to);
      from.on('error', () => to.destroy());
      from.on('close', () => {
        this.#sockets.delete(from);
        to.destroy();
      });
    }
  }
}
