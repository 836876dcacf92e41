// httpsBytes against a real TLS server that answers its headers at once and then trickles the
// body: the idle-socket timeout never fires, so only the total deadline ends the request.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { makeTestTls, type TestTls } from '../../test-support/test-tls.js';
import { httpsBytes, type BytesCall } from './https-request.js';

let tls: TestTls;
let server: Server;
let endpoint: string;
const trickles = new Set<NodeJS.Timeout>();

before(async () => {
  tls = makeTestTls();
  server = createServer({ cert: tls.serverCert, key: tls.serverKey }, (req, res) => {
    res.writeHead(200, { 'content-type': 'application/zip' });
    const trickle = setInterval(() => res.write(Buffer.from([0])), 100);
    trickles.add(trickle);
    res.on('close', () => {
      clearInterval(trickle);
      trickles.delete(trickle);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  for (const trickle of trickles) clearInterval(trickle);
  server.closeAllConnections();
  server.close();
});

function call(deadlineMs: number): BytesCall {
  return {
    method: 'GET',
    url: `${endpoint}/package?api-version=2024-07-10`,
    route: { kind: 'direct', why: 'no proxy' },
    ca: tls.caCert,
    token: 't',
    accept: 'application/zip',
    timeoutMs: 1_000,
    deadlineMs,
    maxBytes: 1024 * 1024,
  };
}

void describe('httpsBytes', () => {
  void test('a control plane that trickles bytes is abandoned at the deadline', async () => {
    const started = performance.now();
    await assert.rejects(httpsBytes(call(500)), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'ERR_UNREACHABLE');
      assert.ok(
        error.message.includes(
          `did not finish answering GET ${endpoint}/package?api-version=2024-07-10 within 0.5 s`,
        ),
        error.message,
      );
      return true;
    });
    const took = performance.now() - started;
    assert.ok(took >= 450 && took < 1_500, `took ${Math.round(took)} ms`);
  });
});
