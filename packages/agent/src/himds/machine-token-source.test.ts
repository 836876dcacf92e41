// The per-audience token cache against a real HTTPS token endpoint, with an injected clock: one
// request per audience, reuse until 5 minutes before expiry, one request for concurrent callers.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { generateMachineKey } from '../identity/machine-key.js';
import { makeTestTls, type TestTls } from '../test-support/test-tls.js';
import { DIRECT_EGRESS } from '../network/egress.js';
import { MachineTokenSource } from './machine-token-source.js';

let tls: TestTls;
let server: Server;
let endpoint: string;
const scopes: string[] = [];

before(async () => {
  tls = makeTestTls();
  server = createServer({ cert: tls.serverCert, key: tls.serverKey }, (req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c));
    req.on('end', () => {
      const scope = new URLSearchParams(body).get('scope') ?? '';
      scopes.push(scope);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          access_token: `token-${scopes.length}`,
          token_type: 'Bearer',
          expires_in: 3600,
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

void describe('MachineTokenSource', () => {
  void test('caches per audience until 5 minutes before expiry', async () => {
    scopes.length = 0;
    let now = Date.parse('2030-01-01T00:00:00Z');
    const source = new MachineTokenSource(
      { endpoint, tenantId: 't', principalId: 'p', ca: tls.caCert, egress: DIRECT_EGRESS },
      generateMachineKey(),
      { now: () => now },
    );
    const first = await source.token('https://management.azure.com/');
    assert.equal((await source.token('https://management.azure.com')).token, first.token);
    const other = await source.token('https://vault.azure.net');
    assert.notEqual(other.token, first.token);
    assert.deepEqual(scopes, [
      'https://management.azure.com/.default',
      'https://vault.azure.net/.default',
    ]);
    now += 54 * 60_000; // 6 minutes left: still served from the cache
    assert.equal((await source.token('https://management.azure.com')).token, first.token);
    now += 2 * 60_000; // 4 minutes left: renewed
    assert.notEqual((await source.token('https://management.azure.com')).token, first.token);
    assert.equal(scopes.length, 3);
  });

  void test('concurrent callers share one request', async () => {
    scopes.length = 0;
    const source = new MachineTokenSource(
      { endpoint, tenantId: 't', principalId: 'p', ca: tls.caCert, egress: DIRECT_EGRESS },
      generateMachineKey(),
      { now: () => Date.parse('2030-01-01T00:00:00Z') },
    );
    const tokens = await Promise.all(
      Array.from({ length: 5 }, () => source.token('https://management.azure.com')),
    );
    assert.equal(new Set(tokens.map((t) => t.token)).size, 1);
    assert.equal(scopes.length, 1);
  });
});
