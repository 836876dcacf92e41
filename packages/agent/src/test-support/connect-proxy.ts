// A forward proxy for tests: answers HTTP CONNECT by piping bytes to the named host, records
// every tunnel it was asked for, and can refuse them all. The system test uses Debian's tinyproxy.
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';

export interface TestProxy {
  readonly url: string;
  /** `host:port` of every CONNECT, in order. */
  readonly tunnels: string[];
  /** When set, every CONNECT is answered with this status instead. */
  refuseWith: number | undefined;
  close(): Promise<void>;
}

export async function startTestProxy(): Promise<TestProxy> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((_req, res) => res.writeHead(405).end());
  const proxy: TestProxy = {
    url: '',
    tunnels: [],
    refuseWith: undefined,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  server.on('connect', (req, client: Socket) => {
    sockets.add(client);
    const target = req.url ?? '';
    proxy.tunnels.push(target);
    if (proxy.refuseWith !== undefined) {
      client.end(`HTTP/1.1 ${proxy.refuseWith} Refused\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    const [host, port] = [target.slice(0, target.lastIndexOf(':')), target.split(':').pop()];
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection established\r\n\r\n');
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(proxy, { url: `http://127.0.0.1:${port}` });
}
