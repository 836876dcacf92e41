// The extension service's HTTPS calls against a real TLS server trusted through a test CA: the
// long poll's query and timeout, status answers, package signature + bytes, and a 401 after
// HIMDS rotated the key making the service re-read certs/machine.key and retry once.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import {
  generateMachineKey,
  writeMachineKey,
  type MachineKey,
} from '../../identity/machine-key.js';
import { makeTestTls, type TestTls } from '../../test-support/test-tls.js';
import { DIRECT_EGRESS } from '../../network/egress.js';
import { HttpsExtensionApi } from './extension-api.js';
import { MachineCredential } from './machine-credential.js';
import type { StatusReport } from './status-report.js';

const MACHINE =
  '/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.HybridCompute/machines/m1';
const ZIP = Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 1, 2, 3, 255]);

let tls: TestTls;
let server: Server;
let endpoint: string;
let dir: string;
let keyFile: string;
/** The key id each token was issued for, and which key ids the API accepts. */
const tokenKids: string[] = [];
let acceptedKid: string | undefined;
const requests: { method: string; url: string; kid: string | undefined }[] = [];
let holdMs = 0;
let statusAnswer = 200;

const owner = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };

before(async () => {
  tls = makeTestTls();
  dir = mkdtempSync(join(tmpdir(), 'extension-api-'));
  keyFile = join(dir, 'machine.key');
  server = createServer({ cert: tls.serverCert, key: tls.serverKey }, (req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const url = req.url ?? '';
      const json = (status: number, value: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      if (url.endsWith('/oauth2/v2.0/token')) {
        const assertion = new URLSearchParams(body).get('client_assertion') ?? '';
        const header = JSON.parse(
          Buffer.from(assertion.split('.')[0] ?? '', 'base64url').toString(),
        ) as { kid: string };
        tokenKids.push(header.kid);
        json(200, { access_token: `token-for-${header.kid}`, expires_in: 3600 });
        return;
      }
      const kid = /^Bearer token-for-(.+)$/.exec(req.headers.authorization ?? '')?.[1];
      requests.push({ method: req.method ?? '', url, kid });
      if (acceptedKid !== undefined && kid !== acceptedKid) {
        json(401, { error: { code: 'InvalidAuthenticationToken', message: 'no' } });
        return;
      }
      if (url.includes('/extensionGoalState')) {
        setTimeout(() => json(200, { generation: 7, extensions: [] }), holdMs);
      } else if (url.includes('/extensionStatus')) {
        json(
          statusAnswer,
          statusAnswer === 200
            ? { accepted: true }
            : { error: { code: 'Conflict', message: 'stale operation' } },
        );
      } else if (url.includes('/versions/3.0.0/package?')) {
        // More than any package the repository takes (32 MiB).
        res.writeHead(200, { 'content-type': 'application/zip' });
        res.end(Buffer.alloc(33 * 1024 * 1024));
      } else if (url.includes('/versions/3.0.0?')) {
        json(200, { publisher: 'P', type: 'T', version: '3.0.0', signature: 'a.b.c' });
      } else if (url.includes('/package?')) {
        res.writeHead(200, { 'content-type': 'application/zip' });
        res.end(ZIP);
      } else if (url.includes('/versions/2.1.0?')) {
        json(200, { publisher: 'P', type: 'T', version: '2.1.0', signature: 'a.b.c' });
      } else {
        json(404, { error: { code: 'NotFound', message: url } });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

let key: MachineKey;
beforeEach(() => {
  key = generateMachineKey();
  writeMachineKey(keyFile, key, owner);
  tokenKids.length = 0;
  requests.length = 0;
  acceptedKid = undefined;
  holdMs = 0;
  statusAnswer = 200;
});

function makeApi(waitSeconds = 50): HttpsExtensionApi {
  const credential = new MachineCredential(
    { endpoint, tenantId: 't1', principalId: 'p1', ca: tls.caCert, egress: DIRECT_EGRESS },
    keyFile,
    { now: () => Date.now() },
  );
  const target = {
    endpoint,
    ca: tls.caCert,
    egress: DIRECT_EGRESS,
    subscriptionId: 's1',
    resourceGroup: 'rg1',
    resourceName: 'm1',
  };
  return new HttpsExtensionApi(target, credential, waitSeconds);
}

const REPORT: StatusReport = {
  name: 'Script',
  operationId: 'op',
  sequence: 1,
  result: 'Succeeded',
  instanceView: {
    name: 'Script',
    type: 'CustomScript',
    typeHandlerVersion: '2.1.0',
    status: { code: '0', level: 'Info', displayStatus: 'ok', message: 'ok', time: 'x' },
  },
};

void describe('HttpsExtensionApi', () => {
  void test('long-polls with after and wait, and waits longer than wait', async () => {
    const api = makeApi(1);
    assert.equal((await api.goalState(undefined)).generation, 7);
    holdMs = 1_300; // longer than wait: the request timeout has a margin
    assert.equal((await api.goalState(7)).generation, 7);
    assert.deepEqual(
      requests.map((request) => request.url),
      [
        `${MACHINE}/extensionGoalState?api-version=2024-07-10`,
        `${MACHINE}/extensionGoalState?api-version=2024-07-10&after=7&wait=1`,
      ],
    );
  });

  void test('a poll in flight can be aborted', async () => {
    holdMs = 1_500;
    const controller = new AbortController();
    const poll = makeApi().goalState(3, controller.signal);
    // Abort once the server holds the poll, so it is in flight and cannot reach the server
    // after this test (when the next one counts requests).
    while (requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    await assert.rejects(poll, { code: 'ERR_UNREACHABLE' });
  });

  void test('re-reads a rotated machine key after a 401 and retries once', async () => {
    const api = makeApi();
    await api.goalState(undefined);
    const rotated = generateMachineKey();
    writeMachineKey(keyFile, rotated, owner);
    acceptedKid = rotated.keyId;
    await api.goalState(undefined);
    assert.deepEqual(tokenKids, [key.keyId, rotated.keyId]);
    assert.deepEqual(
      requests.map((request) => request.kid),
      [key.keyId, key.keyId, rotated.keyId],
    );
  });

  void test('status reports: 200 accepted, 409 dropped, 5xx thrown to retry', async () => {
    const api = makeApi();
    assert.equal(await api.reportStatus(REPORT), 'accepted');
    statusAnswer = 409;
    assert.deepEqual(await api.reportStatus(REPORT), {
      dropped: '409 Conflict: stale operation',
    });
    statusAnswer = 503;
    await assert.rejects(api.reportStatus(REPORT), { code: 'ERR_CONTROL_PLANE_REFUSED' });
    assert.equal(requests[0]?.url, `${MACHINE}/extensionStatus?api-version=2024-07-10`);
  });

  void test('downloads the package signature and bytes', async () => {
    const fetched = await makeApi().fetchPackage({ publisher: 'P', type: 'T', version: '2.1.0' });
    assert.equal(fetched.signature, 'a.b.c');
    assert.deepEqual(Buffer.from(fetched.zip), ZIP);
    assert.deepEqual(
      requests.map((request) => request.url),
      [
        '/providers/Tether.Extensions/publishers/P/types/T/versions/2.1.0?api-version=2024-07-10',
        '/providers/Tether.Extensions/publishers/P/types/T/versions/2.1.0/package?api-version=2024-07-10',
      ],
    );
    await assert.rejects(
      makeApi().fetchPackage({ publisher: 'P', type: 'T', version: '9.9' }),
      /did not serve the package metadata of P.T 9.9: 404/,
    );
  });

  void test('refuses a package larger than the repository takes, saying so', async () => {
    await assert.rejects(
      makeApi().fetchPackage({ publisher: 'P', type: 'T', version: '3.0.0' }),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, 'ERR_CONTROL_PLANE_REFUSED');
        assert.match(error.message, /larger than 33554432 bytes/);
        assert.match(error.message, /\/versions\/3\.0\.0\/package/);
        return true;
      },
    );
  });
});
