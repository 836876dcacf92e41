// The floor the fleet's memory per connected machine is set against: a bare node:https server
// with Tether's certificate that answers the few requests a simulated agent makes with the
// least the agent reads, and holds each goal-state long poll for its `wait` as Tether does.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { serveFloorUntilTerminated } from '../floor-server.js';

export function serveBareFloor(certFile: string, keyFile: string): void {
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
          answer({ access_token: 'floor', token_type: 'Bearer', expires_in: 3600 });
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
  serveFloorUntilTerminated(server);
}
