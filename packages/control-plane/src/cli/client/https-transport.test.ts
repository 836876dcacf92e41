// Real HTTPS against a local server whose certificate only a given CA vouches for: trusted
// with that CA, refused with a hint without it, and never plain http.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CliError } from './cli-error.js';
import { HttpsTransport } from './https-transport.js';
import { selfSignedLocalhost } from './testing/test-certificate.js';

void describe('https transport', () => {
  let server: Server;
  let ca = '';
  let base = '';

  before(async () => {
    const tls = await selfSignedLocalhost();
    ca = tls.cert;
    server = createServer(tls, (request, response) => {
      if (request.url === '/big') {
        response.end('x'.repeat(2048));
        return;
      }
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        response.setHeader('x-seen', `${request.method} ${request.url}`);
        response.statusCode = 207;
        response.end(Buffer.concat(chunks));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(() => {
    server.close();
  });

  void it('talks to a server its CA vouches for', async () => {
    const transport = new HttpsTransport({ ca });
    try {
      const response = await transport.send({
        method: 'POST',
        url: new URL(`${base}/echo?a=1`),
        headers: { 'content-type': 'application/json' },
        body: '{"x":"é"}',
      });
      assert.equal(response.status, 207);
      assert.equal(response.body, '{"x":"é"}', 'the whole UTF-8 body both ways');
      assert.equal(response.headers['x-seen'], 'POST /echo?a=1');
    } finally {
      transport.close();
    }
  });

  void it('refuses an untrusted certificate and says how to trust it', async () => {
    const transport = new HttpsTransport();
    try {
      await assert.rejects(
        transport.send({ method: 'GET', url: new URL(`${base}/`), headers: {} }),
        (error: unknown) =>
          error instanceof CliError &&
          error.code === 'ERR_NETWORK' &&
          /not trusted/.test(error.message) &&
          /--ca-cert/.test(error.message) &&
          /TETHER_CA_CERT/.test(error.message),
      );
    } finally {
      transport.close();
    }
  });

  void it('never sends over plain http', async () => {
    const transport = new HttpsTransport({ ca });
    await assert.rejects(
      transport.send({ method: 'GET', url: new URL(base.replace('https', 'http')), headers: {} }),
      /refusing to send credentials over http/,
    );
    transport.close();
  });

  void it('says when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const transport = new HttpsTransport({ ca });
    await assert.rejects(
      transport.send({ method: 'GET', url: new URL(`https://127.0.0.1:${port}/`), headers: {} }),
      /cannot reach the control plane at https:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED.*Check --endpoint/,
    );
    transport.close();
  });

  void it('refuses an answer larger than its limit', async () => {
    const transport = new HttpsTransport({ ca, maxResponseBytes: 1024 });
    await assert.rejects(
      transport.send({ method: 'GET', url: new URL(`${base}/big`), headers: {} }),
      /larger than 1024 bytes/,
    );
    transport.close();
  });
});
