// The agent's HTTPS calls on a proxy route, against a real CONNECT proxy and a real TLS server:
// they go through the tunnel, still verify the pinned CA end to end, report a refused tunnel
// or a dead proxy as unreachable (never as the control plane's answer), and direct routes skip it.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import { httpsJson } from '../control-plane/https-json.js';
import { httpsBytes } from '../extensions/service/https-request.js';
import { startTestProxy, type TestProxy } from '../test-support/connect-proxy.js';
import { makeTestTls, type TestTls } from '../test-support/test-tls.js';
import type { ProxyRoute } from './proxy-route.js';

let tls: TestTls;
let server: Server;
let endpoint: string;
let proxy: TestProxy;
let via: ProxyRoute;
const DIRECT: ProxyRoute = { kind: 'direct', why: 'bypassed' };

before(async () => {
  tls = makeTestTls();
  server = createServer({ cert: tls.serverCert, key: tls.serverKey }, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy = await startTestProxy();
  via = { kind: 'proxy', url: proxy.url };
});

after(async () => {
  await proxy.close();
  server.closeAllConnections();
  server.close();
});

beforeEach(() => {
  proxy.tunnels.length = 0;
  proxy.refuseWith = undefined;
});

const bytes = (route: ProxyRoute, ca = tls.caCert): ReturnType<typeof httpsBytes> =>
  httpsBytes({
    method: 'GET',
    url: `${endpoint}/package`,
    route,
    ca,
    token: 't',
    accept: '*/*',
    timeoutMs: 5000,
    deadlineMs: 5000,
    maxBytes: 1000,
  });

void describe('calls on a proxy route', () => {
  void test('go through a CONNECT tunnel to the control plane', async () => {
    const answer = await httpsJson({
      method: 'GET',
      url: `${endpoint}/x`,
      route: via,
      ca: tls.caCert,
    });
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, { ok: true });
    assert.equal((await bytes(via)).status, 200);
    const host = endpoint.replace('https://', '');
    assert.ok(proxy.tunnels.length >= 1);
    assert.ok(
      proxy.tunnels.every((t) => t === host),
      proxy.tunnels.join(' '),
    );
  });

  void test('see the server certificate on a fresh connection (for check)', async () => {
    const answer = await httpsJson({
      method: 'GET',
      url: `${endpoint}/x`,
      route: via,
      ca: tls.caCert,
      freshConnection: true,
    });
    assert.match(answer.serverCertificate?.subject ?? '', /CN=127\.0\.0\.1/);
    assert.equal(proxy.tunnels.length, 1);
  });

  void test('still refuse a server the pinned CA did not issue', async () => {
    const other = makeTestTls();
    for (const call of [
      httpsJson({
        method: 'GET',
        url: `${endpoint}/x`,
        route: via,
        ca: other.caCert,
        freshConnection: true,
      }),
      bytes({ kind: 'proxy', url: proxy.url }, other.caCert),
    ]) {
      await assert.rejects(call, (error: Error & { code?: string; cause?: { code?: string } }) => {
        assert.equal(error.code, 'ERR_UNREACHABLE');
        assert.match(error.cause?.code ?? '', /UNABLE_TO_VERIFY|SELF_SIGNED|CERT/);
        return true;
      });
    }
    assert.ok(proxy.tunnels.length >= 1, 'the attempt went through the proxy');
  });

  void test('still check that the certificate names the host asked for', async () => {
    // The certificate names 127.0.0.1 only; the same server asked for as localhost is refused.
    const asLocalhost = endpoint.replace('127.0.0.1', 'localhost');
    await assert.rejects(
      httpsJson({ method: 'GET', url: `${asLocalhost}/x`, route: via, ca: tls.caCert }),
      (error: Error & { code?: string; cause?: { code?: string } }) => {
        assert.equal(error.code, 'ERR_UNREACHABLE');
        assert.equal(error.cause?.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
        return true;
      },
    );
    assert.ok(
      proxy.tunnels.some((t) => t.startsWith('localhost:')),
      proxy.tunnels.join(' '),
    );
  });

  void test("a refused tunnel is the proxy's answer, never taken for the control plane's", async () => {
    // A proxy of its own: no tunnel kept alive from the tests above can carry these calls.
    const refusing = await startTestProxy();
    refusing.refuseWith = 403;
    const route = { kind: 'proxy', url: refusing.url } as const;
    try {
      for (const call of [
        httpsJson({ method: 'GET', url: `${endpoint}/x`, route, ca: tls.caCert }),
        bytes(route),
      ]) {
        await assert.rejects(call, (error: Error & { code?: string }) => {
          assert.equal(error.code, 'ERR_UNREACHABLE');
          assert.match(error.message, /the proxy .* refused the tunnel with 403/);
          return true;
        });
      }
      assert.equal(refusing.tunnels.length, 2);
    } finally {
      await refusing.close();
    }
  });

  void test('a proxy that is down makes the call unreachable, naming the proxy', async () => {
    const dead = await startTestProxy();
    await dead.close();
    await assert.rejects(
      httpsJson({
        method: 'GET',
        url: `${endpoint}/x`,
        route: { kind: 'proxy', url: dead.url },
        ca: tls.caCert,
      }),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, 'ERR_UNREACHABLE');
        assert.ok(error.message.includes(`through the proxy ${dead.url}`), error.message);
        assert.match(error.message, /ECONNREFUSED/);
        return true;
      },
    );
  });

  void test('a direct route never touches the proxy', async () => {
    const answer = await httpsJson({
      method: 'GET',
      url: `${endpoint}/x`,
      route: DIRECT,
      ca: tls.caCert,
    });
    assert.equal(answer.status, 200);
    assert.equal((await bytes(DIRECT)).status, 200);
    assert.deepEqual(proxy.tunnels, []);
  });
});
