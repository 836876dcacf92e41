// The connection checks against a real HTTPS server: verified TLS with the saved CA, a wrong
// CA, a closed port, and clock skew judged from the server's Date header with an injected clock.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { writeAgentState } from '../identity/agent-state.js';
import { loadedFromJson } from '../test-support/loaded-config.js';
import { makeTempRoot, type TempRoot } from '../test-support/temp-root.js';
import { makeTestTls, type TestTls } from '../test-support/test-tls.js';
import type { CheckResult } from './check.js';
import { controlPlaneChecks } from './control-plane-checks.js';

let tls: TestTls;
let server: Server;
let endpoint: string;
const roots: TempRoot[] = [];

before(async () => {
  tls = makeTestTls();
  server = createServer({ cert: tls.serverCert, key: tls.serverKey }, (req, res) => {
    res.writeHead(req.url?.endsWith('/.well-known/openid-configuration') ? 200 : 404, {
      'content-type': 'application/json',
    });
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server.close();
  for (const root of roots) root.remove();
});

function connectedRoot(url: string, ca: string | undefined): TempRoot {
  const temp = makeTempRoot();
  roots.push(temp);
  mkdirSync(temp.paths.certsDir, { recursive: true });
  writeAgentState(temp.paths, {
    resourceId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.HybridCompute/machines/m',
    resourceName: 'm',
    resourceGroup: 'rg',
    subscriptionId: 's',
    tenantId: 't',
    location: 'local',
    vmId: 'v',
    principalId: 'p',
    endpoint: url,
    tags: {},
    credentialExpiresOn: '2030-01-01T00:00:00.000Z',
  });
  if (ca !== undefined) writeFileSync(temp.paths.caCert, ca);
  return temp;
}

async function run(temp: TempRoot, nowMs = Date.now()): Promise<Record<string, CheckResult>> {
  const results = await controlPlaneChecks.run({
    paths: temp.paths,
    systemRoot: temp.root,
    loaded: loadedFromJson({}),
    clock: { now: () => nowMs },
  });
  return Object.fromEntries(results.map((r) => [r.id, r]));
}

void describe('control plane checks', () => {
  void test('skip when the machine is not connected', async () => {
    const temp = makeTempRoot();
    roots.push(temp);
    const results = await run(temp);
    assert.equal(results['reachability']?.status, 'skip');
    assert.equal(results['clock-skew']?.status, 'skip');
  });

  void test('pass over TLS verified with the saved CA and an agreeing clock', async () => {
    const results = await run(connectedRoot(endpoint, tls.caCert));
    assert.equal(results['reachability']?.status, 'pass', results['reachability']?.detail);
    assert.match(results['reachability']?.detail ?? '', /verified against .*azcmagent\/ca\.crt/);
    assert.equal(results['clock-skew']?.status, 'pass', results['clock-skew']?.detail);
  });

  void test('judge the certificate the control plane served (the test one lives 2 days)', async () => {
    const temp = connectedRoot(endpoint, tls.caCert);
    const soon = (await run(temp))['server-certificate'];
    assert.equal(soon?.status, 'warn', soon?.detail);
    assert.match(soon?.detail ?? '', /expiry in [01] days/);
    const expired = (await run(temp, Date.now() + 3 * 86_400_000))['server-certificate'];
    assert.equal(expired?.status, 'fail', expired?.detail);
  });

  void test('warn when the clock is more than 5 minutes off', async () => {
    const temp = connectedRoot(endpoint, tls.caCert);
    const ahead = await run(temp, Date.now() + 10 * 60_000);
    assert.equal(ahead['clock-skew']?.status, 'warn');
    assert.match(ahead['clock-skew']?.detail ?? '', /\d+ s ahead of the control plane's/);
    const behind = await run(temp, Date.now() - 6 * 60_000);
    assert.match(behind['clock-skew']?.detail ?? '', /behind the control plane's/);
    assert.equal((await run(temp, Date.now() + 4 * 60_000))['clock-skew']?.status, 'pass');
  });

  void test('fail when the certificate does not verify against the saved CA', async () => {
    const other = makeTestTls();
    const results = await run(connectedRoot(endpoint, other.caCert));
    assert.equal(results['reachability']?.status, 'fail');
    assert.match(results['reachability']?.detail ?? '', /certificate does not verify against/);
    assert.equal(results['clock-skew']?.status, 'unknown');
  });

  void test('fail when nothing listens there', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const results = await run(connectedRoot(`https://127.0.0.1:${port}`, tls.caCert));
    assert.equal(results['reachability']?.status, 'fail');
    assert.match(results['reachability']?.detail ?? '', /Cannot reach .*ECONNREFUSED/);
  });
});
