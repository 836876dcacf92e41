// The real `azcmagent service run gc` (the bundled CLI) against a stand-in control plane over
// TLS, under a temporary AZCMAGENT_ROOT whose rules read a fake server: it prints its ready line,
// downloads and verifies the signed package, reports compliance (Initial, then Consistency on
// its schedule), and on SIGTERM stops and records "stopped".
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { GuestConfigurationReportUpload } from '@tether/protocol';
import { publisherKeys, trust } from '../../extensions/host/testing/test-fixtures.js';
import { until } from '../../extensions/service/testing/manual-scheduler.js';
import { readServiceStatus } from '../../himds/service-status.js';
import { writeAgentState } from '../../identity/agent-state.js';
import { expectedKeyOwner } from '../../identity/himds-account.js';
import { generateMachineKey, writeMachineKey } from '../../identity/machine-key.js';
import { AZCMAGENT_BIN } from '../../test-support/azcmagent-process.js';
import { makeTempRoot, type TempRoot } from '../../test-support/temp-root.js';
import { makeTestTls, type TestTls } from '../../test-support/test-tls.js';
import { signedConfiguration } from './testing/fake-guest-configuration-api.js';

const MACHINE =
  '/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.HybridCompute/machines/m1';
const ENTRY =
  '/providers/Tether.Extensions/publishers/Contoso.Security/types/SshConfig/versions/1.0.0';

let temp: TempRoot;
let tls: TestTls;
let server: Server | undefined;
let child: ChildProcess | undefined;
const uploads: GuestConfigurationReportUpload[] = [];
let packageDownloads = 0;
let stdout = '';
let stderr = '';

before(async () => {
  temp = makeTempRoot();
  tls = makeTestTls();
  temp.writeConfig('{}');
  const key = generateMachineKey();
  for (const dir of [temp.paths.certsDir, temp.paths.statusDir])
    mkdirSync(dir, { recursive: true });
  writeMachineKey(temp.paths.machineKey, key, expectedKeyOwner(temp.paths, {}));
  writeFileSync(temp.paths.caCert, tls.caCert);
  const keys = publisherKeys();
  trust(temp.paths, 'Contoso.Security', keys);
  // The fake server the rules read: sshd_config too open for rule 5.2.1, root login refused.
  mkdirSync(join(temp.root, 'etc/ssh'), { recursive: true });
  writeFileSync(join(temp.root, 'etc/ssh/sshd_config'), 'PermitRootLogin no\n', { mode: 0o644 });
  const pkg = await signedConfiguration(
    {
      name: 'SshConfig',
      version: '1.0.0',
      rules: [
        {
          id: '5.2.1',
          title: 'sshd_config mode',
          kind: 'file',
          path: '/etc/ssh/sshd_config',
          maxMode: '0600',
        },
        {
          id: '109',
          title: 'PermitRootLogin no',
          kind: 'configKey',
          path: '/etc/ssh/sshd_config',
          format: 'sshd',
          key: 'PermitRootLogin',
          expect: { equals: 'no' },
        },
      ],
    },
    'Contoso.Security',
    keys.privateKey,
  );
  const goalState = {
    generation: 1,
    assignments: [
      {
        name: 'ssh-audit',
        configurationName: 'SshConfig',
        version: '1.0.0',
        publisher: 'Contoso.Security',
        contentUri: ENTRY,
        contentHash: pkg.contentHash,
        assignmentType: 'Audit',
        parameters: [],
        frequencyMinutes: 15,
        evaluationRequest: 0,
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
      if (url.startsWith(`${MACHINE}/guestConfigurationGoalState?`)) {
        if (url.includes('after=1')) setTimeout(() => json(goalState), 2_000);
        else json(goalState);
        return;
      }
      if (url.startsWith(`${MACHINE}/guestConfigurationReports?`)) {
        uploads.push(JSON.parse(body) as GuestConfigurationReportUpload);
        return json({ accepted: 1 });
      }
      if (url.startsWith(`${ENTRY}/package?`)) {
        packageDownloads += 1;
        res.writeHead(200, { 'content-type': 'application/zip' });
        res.end(pkg.zip);
        return;
      }
      if (url.startsWith(`${ENTRY}?`)) return json({ signature: pkg.signature });
      res.writeHead(404).end();
    });
  });
  server = stub;
  await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
  writeAgentState(temp.paths, {
    resourceId: MACHINE,
    resourceName: 'm1',
    resourceGroup: 'rg1',
    subscriptionId: 's1',
    tenantId: 't1',
    location: 'westeurope',
    vmId: 'vm',
    principalId: 'p1',
    endpoint: `https://127.0.0.1:${(stub.address() as AddressInfo).port}`,
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

void describe('azcmagent service run gc', () => {
  void test('evaluates the assigned signed package against the server and reports, then stops on SIGTERM', async () => {
    const process_ = spawn(process.execPath, [AZCMAGENT_BIN, 'service', 'run', 'gc'], {
      env: {
        PATH: process.env.PATH,
        AZCMAGENT_ROOT: temp.root,
        AZCMAGENT_GC_FREQUENCY_SECONDS: '2',
        // No HIMDS runs here: port 1 refuses, so the service long-polls the fake server, and
        // never asks another test's HIMDS on the default port.
        AZCMAGENT_HIMDS_PORT: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = process_;
    process_.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    process_.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => process_.once('exit', resolve));

    await until(
      'the ready line',
      () => stdout.includes(`guest configuration service running for ${MACHINE}`),
      20_000,
    );
    const reports = (): GuestConfigurationReportUpload['reports'][number][] =>
      uploads.flatMap((upload) => upload.reports);
    await until('two reports', () => reports().length >= 2, 30_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${stderr}`);
    });
    const [initial, consistency] = reports();
    assert.equal(initial?.operationType, 'Initial');
    assert.equal(consistency?.operationType, 'Consistency');
    assert.equal(initial?.complianceStatus, 'NonCompliant');
    assert.deepEqual(
      initial?.resources.map((r) => [r.resourceId, r.complianceStatus]),
      [
        ['5.2.1', 'NonCompliant'],
        ['109', 'Compliant'],
      ],
    );
    assert.equal(packageDownloads, 1);
    assert.equal(readServiceStatus(temp.paths.serviceStatus('gc'))?.status, 'running');
    assert.equal(statSync(temp.paths.guestConfigPackagesDir).mode & 0o777, 0o700);
    assert.match(
      readFileSync(temp.paths.guestConfigServiceLog, 'utf8'),
      /ssh-audit: NonCompliant \(Initial\)/,
    );

    process_.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    assert.equal(readServiceStatus(temp.paths.serviceStatus('gc'))?.status, 'stopped');
  });
});
