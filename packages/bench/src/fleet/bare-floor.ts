// The floor the fleet's memory per connected machine is set against: a bare node:https server
// with Tether's certificate that answers the few requests a simulated agent makes with the
// least the agent reads, and holds each goal-state long poll for its `wait` as Tether does.
// Its access tokens are random text as long as Tether's, so that each held poll carries the
// same request as it does there (a bearer token is about a kilobyte of its headers).
// With several workers it serves its port as `tether server --workers` does: node:cluster, the
// primary handing each connection to the next worker, so that each holds its share. An agent
// channel is taken by a bare `ws` server on the same port, which says hello as Tether does and
// acks each heartbeat frame with an empty body.
import cluster from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { serveFloorUntilTerminated } from '../floor-server.js';

const HELLO = JSON.stringify({ type: 'hello', notices: ['extensions', 'guestConfiguration'] });

export function serveBareFloor(
  certFile: string,
  keyFile: string,
  tokenLength: number,
  workers = 1,
): void {
  if (workers <= 1) {
    serveFloorUntilTerminated(floorServer(certFile, keyFile, tokenLength));
    return;
  }
  if (cluster.isWorker) {
    const server = floorServer(certFile, keyFile, tokenLength);
    server.listen(0, '127.0.0.1', () =>
      process.send?.({ port: (server.address() as AddressInfo).port }),
    );
    process.on('SIGTERM', () => {
      server.closeAllConnections();
      server.close(() => process.exit(0));
    });
    return;
  }
  let ready = 0;
  for (let i = 0; i < workers; i++) {
    cluster.fork().on('message', (message: { port: number }) => {
      if (++ready === workers) process.stdout.write(`floor listening on ${message.port}\n`);
    });
  }
  cluster.on('exit', () => {
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
  });
  process.on('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
  });
}

function floorServer(certFile: string, keyFile: string, tokenLength: number): Server {
  const server = createServer(
    { cert: readFileSync(certFile), key: readFileSync(keyFile), keepAliveTimeout: 72_000 },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'https://localhost');
        const answer = (body: unknown): void => {
          const text = JSON.stringify(body);
          res.writeHead(200, {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(text),
          });
          res.end(text);
        };
        if (url.pathname.endsWith('/oauth2/v2.0/token')) {
          answer({
            access_token: randomBytes(tokenLength).toString('base64url').slice(0, tokenLength),
            token_type: 'Bearer',
            expires_in: 3600,
          });
        } else if (url.pathname.endsWith('/extensionGoalState')) {
          const wait = Number(url.searchParams.get('wait') ?? 0);
          if (url.searchParams.get('after') === null) answer({ generation: 1, extensions: [] });
          else {
            const timer = setTimeout(() => answer({ generation: 1, extensions: [] }), wait * 1000);
            req.socket.once('close', () => clearTimeout(timer));
          }
        } else {
          answer({});
        }
      });
    },
  );
  server.maxConnections = Number.MAX_SAFE_INTEGER;
  const channels = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
  });
  server.on('upgrade', (request, socket, head: Buffer) =>
    channels.handleUpgrade(request, socket, head, (ws) => {
      ws.on('error', () => undefined);
      ws.on('message', (data: Buffer) => {
        const { id } = JSON.parse(data.toString('utf8')) as { id: number };
        ws.send(`{"type":"ack","id":${id},"status":200,"body":{}}`);
      });
      ws.send(HELLO);
    }),
  );
  return server;
}
