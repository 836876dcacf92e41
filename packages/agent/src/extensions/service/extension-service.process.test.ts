// The real `azcmagent service run extension` (the bundled CLI) against a stand-in control plane
// over TLS: it prints its ready line, refuses what the local allowlist refuses and reports why,
// installs an allowed signed package with its protected settings opened for the handler only,
// and on SIGTERM stops and records "stopped".
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sealProtectedSettings } from '@tether/protocol/protected-settings';
import { readServiceStatus } from '../../himds/service-status.js';
import { writeAgentState } from '../../identity/agent-state.js';
import { expectedKeyOwner } from '../../identity/himds-account.js';
import { generateMachineKey, writeMachineKey } from '../../identity/machine-key.js';
import { AZCMAGENT_BIN } from '../../test-support/azcmagent-process.js';
import { makeTempRoot, type TempRoot } from '../../test-support/temp-root.js';
import { makeTestTls, type TestTls } from '../../test-support/test-tls.js';
import type { FetchedPackage } from '../extension-host.js';
import {
  buildZip,
  handlerEntries,
  publisherKeys,
  signedPackage,
  trust,
} from '../host/testing/test-fixtures.js';
import type { StatusReport } from './status-report.js';
import { until } from './testing/manual-scheduler.js';

const SECRET = 'p4ss-process-SECRET';
const MACHINE =
  '/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.HybridCompute/machines/m1';

let temp: TempRoot;
let tls: TestTls;
let server: Server | undefined;
let child: ChildProcess | undefined;
let goalState: unknown;
let pkg: FetchedPackage;
const reports: StatusReport[] = [];
let stdout = '';
let stderr = '';

before(async () => {
  temp = makeTempRoot();
  tls = makeTestTls();
  temp.writeConfig(JSON.stringify({ 'extensions.allowlist': ['Contoso.Tools/Hello'] }));
  const key = generateMachineKey();
  // What connect prepares.
  for (const dir of [temp.paths.certsDir, temp.paths.statusDir])
    mkdirSync(dir, { recursive: true });
  writeMachineKey(temp.paths.machineKey, key, expectedKeyOwner(temp.paths, {}));
  writeFileSync(temp.paths.caCert, tls.caCert);
  const keys = publisherKeys();
  trust(temp.paths, 'Contoso.Tools', keys);
  const callLog = join(temp.root, 'calls.log');
  const identity = { publisher: 'Contoso.Tools', type: 'Hello', version: '1.0.0' };
  pkg = await signedPackage(
    identity,
    await buildZip(handlerEntries({ callLog, version: '1.0.0' })),
    keys.privateKey,
  );
  const sealed = await sealProtectedSettings({ password: SECRET }, key.clientPublicKey);
  goalState = {
    generation: 1,
    extensions: [
      {
        name: 'CustomScript',
        publisher: 'Microsoft.Azure.Extensions',
        type: 'CustomScript',
        version: '2.1.0',
        sequence: 1,
        settings: {},
        protectedSettings: null,
        state: 'enabled',
        operation: { id: 'op-blocked', kind: 'install' },
      },
      {
        name: 'Hello',
        ...identity,
        sequence: 2,
        settings: { greeting: 'hi' },
        protectedSettings: sealed,
        state: 'enabled',
        operation: { id: 'op-hello', kind: 'install' },
      },
    ],
  };
  const stub = createServer({ cert: tls.serverCert, key: tls.serverKey }, (req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const url = req.url ?? '';
      const json = (value: unknown): void => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      if (url.endsWith('/oauth2/v2.0/token')) return json({ access_token: 't', expires_in: 3600 });
      if (req.headers.authorization !== 'Bearer t') {
        res.writeHead(401).end();
        return;
      }
      if (url.startsWith(`${MACHINE}/extensionGoalState`)) {
        // A long poll: an unchanged generation is held (briefly, for the test).
        if (url.includes('after=1')) setTimeout(() => json(goalState), 2_000);
        else json(goalState);
        return;
      }
      if (url.startsWith(`${MACHINE}/extensionStatus`)) {
        reports.push(JSON.parse(body) as StatusReport);
        return json({ accepted: true });
      }
      if (url.includes('/versions/1.0.0/package?')) {
        res.writeHead(200, { 'content-type': 'application/zip' });
        res.end(pkg.zip);
        return;
      }
      if (url.includes('/versions/1.0.0?')) return json({ signature: pkg.signature });
      res.writeHead(404).end();
    });
  });
  server = stub;
  await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
  const endpoint = `https://127.0.0.1:${(stub.address() as AddressInfo).port}`;
  writeAgentState(temp.paths, {
    resourceId: MACHINE,
    resourceName: 'm1',
    resourceGroup: 'rg1',
    subscriptionId: 's1',
    tenantId: 't1',
    location: 'westeurope',
    vmId: 'vm',
    principalId: 'p1',
    endpoint,
    tags: {},
    credentialExpiresOn: '2099-01-01T00:00:00Z',
  });
});

after(() => {
  child?.kill('SIGKILL');
  server?.closeAllConnections();
  server?.close();
  temp.remove();
});

void describe('azcmagent service run extension', () => {
  void test('reconciles the goal state under the local allowlist, then stops on SIGTERM', async () => {
    const process_ = spawn(process.execPath, [AZCMAGENT_BIN, 'service', 'run', 'extension'], {
      env: {
        PATH: process.env.PATH,
        AZCMAGENT_ROOT: temp.root,
        AZCMAGENT_HIMDS_PORT: '1',
        AZCMAGENT_EXTENSION_COMMAND_TIMEOUT_SECONDS: '20',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = process_;
    process_.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    process_.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => process_.once('exit', resolve));

    await until(
      'the ready line',
      () => stdout.includes(`extension service running for ${MACHINE}`),
      20_000,
    );
    await until('both reports', () => reports.length >= 2, 30_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${stderr}`);
    });
    const [blocked, hello] = reports;
    assert.equal(blocked?.operationId, 'op-blocked');
    assert.equal(blocked?.result, 'Failed');
    assert.equal(blocked?.error?.code, 'ERR_EXTENSION_NOT_ALLOWED');
    assert.equal(hello?.operationId, 'op-hello', JSON.stringify(hello));
    assert.equal(hello?.result, 'Succeeded', JSON.stringify(hello));
    assert.equal(hello?.sequence, 2);
    assert.equal(readServiceStatus(temp.paths.serviceStatus('extension'))?.status, 'running');

    const settings = readFileSync(
      join(temp.paths.extensionDir('Contoso.Tools', 'Hello', '1.0.0'), 'config/2.settings'),
      'utf8',
    );
    assert.ok(settings.includes(SECRET), 'the handler gets the opened protected settings');
    const log = readFileSync(join(temp.paths.extensionManagerLogsDir, 'gc_ext.log'), 'utf8');
    assert.match(log, /refused by the local policy/);
    for (const text of [log, stderr, stdout, JSON.stringify(reports)]) {
      assert.ok(!text.includes(SECRET));
    }

    process_.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    assert.equal(readServiceStatus(temp.paths.serviceStatus('extension'))?.status, 'stopped');
  });
});
