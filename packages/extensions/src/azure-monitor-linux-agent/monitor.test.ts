// The AzureMonitorLinuxAgent: its sampler in process; the built handler's lifecycle commands;
// and its hosted process against a local HIMDS (challenge file flow) and a local HTTPS control
// plane that goes down for a while and comes back.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { HandlerFolder, type RunningHandler } from '../test-support/handler-folder.js';
import { makeTestTls } from '@tether/agent/test-support/test-tls';
import { HimdsTokenClient } from './himds-token-client.js';
import type { MetricSample } from '@tether/protocol';
import { MetricsUploader } from './metrics-uploader.js';
import { SystemSampler } from './system-sampler.js';

const PACKAGE = 'Microsoft.Azure.Monitor.AzureMonitorLinuxAgent';
const RESOURCE_ID =
  '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.HybridCompute/machines/m1';

void describe('SystemSampler', () => {
  void it('returns sane figures', async () => {
    const sampler = new SystemSampler();
    // Some work, so the CPU delta covers more than nothing.
    let x = 0;
    for (let i = 0; i < 2e6; i++) x += Math.sqrt(i);
    assert.ok(x > 0);
    const now = new Date();
    const sample = await sampler.sample(now);
    assert.equal(sample.time, now.toISOString());
    assert.ok(sample.cpuPercent >= 0 && sample.cpuPercent <= 100, String(sample.cpuPercent));
    assert.ok(sample.memoryTotalBytes > 64 * 1024 * 1024);
    assert.ok(sample.memoryUsedBytes > 0 && sample.memoryUsedBytes <= sample.memoryTotalBytes);
    assert.ok(sample.diskTotalBytes > 0);
    assert.ok(sample.diskUsedBytes >= 0 && sample.diskUsedBytes <= sample.diskTotalBytes);
  });
});

void describe('MetricsUploader', () => {
  void it('keeps at most its bound, dropping the oldest', () => {
    const uploader = new MetricsUploader(
      new URL('https://127.0.0.1:1/x'),
      new HimdsTokenClient('http://127.0.0.1:1/t', 'https://127.0.0.1:1'),
      3,
    );
    for (let i = 0; i < 5; i++) uploader.add(sampleAt(i));
    assert.equal(uploader.pending, 3);
  });

  void it('builds the metrics URL from the endpoint and the resource id', () => {
    assert.equal(
      MetricsUploader.urlFor('https://cp.example:8443/', RESOURCE_ID).href,
      `https://cp.example:8443${RESOURCE_ID}/providers/Microsoft.Insights/metrics?api-version=2024-07-10`,
    );
  });
});

void describe('AzureMonitorLinuxAgent handler (built package)', () => {
  let folder: HandlerFolder;
  beforeEach(() => {
    folder = HandlerFolder.create(PACKAGE);
  });
  afterEach(() => folder.dispose());

  void it('lifecycle commands write success statuses; enable checks intervalSeconds', async () => {
    folder.writeSettings(0, { intervalSeconds: 30 });
    for (const [command, operation] of [
      ['install', 'Install'],
      ['enable', 'Enable'],
      ['disable', 'Disable'],
      ['update', 'Update'],
      ['uninstall', 'Uninstall'],
    ] as const) {
      const run = await folder.run(command);
      assert.equal(run.code, 0, `${command}: ${run.stdout}${run.stderr}`);
      const status = folder.status(0)[0]?.status;
      assert.equal(status?.operation, operation);
      assert.equal(status?.status, 'success');
      assert.equal(status?.name, PACKAGE);
    }
    folder.writeSettings(1, { intervalSeconds: 0 });
    assert.notEqual((await folder.run('enable')).code, 0);
    const status = folder.status(1)[0]?.status;
    assert.equal(status?.status, 'error');
    assert.match(status?.formattedMessage.message ?? '', /intervalSeconds must be/);
  });

  void it('the hosted process exits with a clear message when not connected', async () => {
    folder.writeSettings(0, {});
    const run = await folder.run('hosted', {
      IDENTITY_ENDPOINT: '',
      TETHER_ENDPOINT: '',
      TETHER_RESOURCE_ID: '',
    });
    assert.equal(run.code, 1);
    assert.match(run.stdout, /IDENTITY_ENDPOINT is not set/);
  });
});

void describe('AzureMonitorLinuxAgent hosted process (built package, real servers)', () => {
  let work: string;
  let caFile: string;
  let himds: Server;
  let controlPlane: Server;
  let himdsUrl: string;
  let endpoint: string;
  const token = `tok-${randomBytes(12).toString('hex')}`;
  const himdsLog: {
    authorization: string | undefined;
    expected?: string;
    metadata: string | undefined;
    resource: string | null;
  }[] = [];
  const posts: { authorization: string | undefined; samples: MetricSample[] }[] = [];
  let controlPlaneDown = false;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'ama-test-'));
    mkdirSync(join(work, 'tokens'));
    const tls = makeTestTls();
    caFile = join(work, 'ca.pem');
    writeFileSync(caFile, tls.caCert);
    let challenge: string | undefined;
    himds = createHttpServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      const authorization = request.headers.authorization;
      himdsLog.push({
        authorization,
        ...(challenge === undefined ? {} : { expected: `Basic ${challenge}` }),
        metadata: request.headers.metadata as string | undefined,
        resource: url.searchParams.get('resource'),
      });
      if (authorization === undefined) {
        challenge = randomBytes(32).toString('hex');
        const file = join(work, 'tokens', `${randomBytes(8).toString('hex')}.key`);
        writeFileSync(file, challenge, { mode: 0o600 });
        response.writeHead(401, { 'www-authenticate': `Basic realm=${file}` }).end();
        return;
      }
      if (authorization !== `Basic ${challenge ?? ''}`) {
        response.writeHead(401).end();
        return;
      }
      challenge = undefined;
      const expiresOn = Math.floor(Date.now() / 1000) + 3600;
      response.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          access_token: token,
          expires_on: String(expiresOn),
          expires_in: '3600',
          resource: endpoint,
          token_type: 'Bearer',
        }),
      );
    });
    controlPlane = createHttpsServer(
      { cert: tls.serverCert, key: tls.serverKey },
      (request, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
          const expectedPath = `${RESOURCE_ID}/providers/Microsoft.Insights/metrics?api-version=2024-07-10`;
          if (request.method !== 'POST' || request.url !== expectedPath) {
            response.writeHead(404).end();
            return;
          }
          if (controlPlaneDown) {
            response.writeHead(503).end('{"error":{"code":"ServiceUnavailable"}}');
            return;
          }
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
            samples: MetricSample[];
          };
          posts.push({ authorization: request.headers.authorization, samples: body.samples });
          response.writeHead(200, { 'content-type': 'application/json' }).end('{"accepted":1}');
        });
      },
    );
    await Promise.all([listen(himds), listen(controlPlane)]);
    himdsUrl = `http://127.0.0.1:${(himds.address() as AddressInfo).port}/metadata/identity/oauth2/token`;
    endpoint = `https://127.0.0.1:${(controlPlane.address() as AddressInfo).port}`;
  });
  after(async () => {
    await Promise.all([close(himds), close(controlPlane)]);
    rmSync(work, { recursive: true, force: true });
  });

  void it('sends samples with a HIMDS token, keeps them while the control plane is down, and stops on SIGTERM', async () => {
    const folder = HandlerFolder.create(PACKAGE);
    let child: RunningHandler | undefined;
    try {
      folder.writeSettings(0, { intervalSeconds: 1 });
      child = folder.start('hosted', {
        IDENTITY_ENDPOINT: himdsUrl,
        TETHER_ENDPOINT: endpoint,
        TETHER_RESOURCE_ID: RESOURCE_ID,
        NODE_EXTRA_CA_CERTS: caFile,
      });
      const running = child;
      await waitFor(() => posts.length >= 2, 'two posts', running);

      // The challenge flow: ask, 401 naming a key file, ask again with its contents.
      assert.equal(himdsLog[0]?.authorization, undefined);
      assert.equal(himdsLog[1]?.authorization, himdsLog[1]?.expected);
      assert.ok(
        himdsLog.every((entry) => entry.metadata === 'true' && entry.resource === endpoint),
      );
      assert.ok(posts.every((post) => post.authorization === `Bearer ${token}`));
      // The token is cached: one challenge round for several posts.
      assert.equal(himdsLog.length, 2);
      const first = posts[0]?.samples[0];
      assert.ok(first !== undefined && first.cpuPercent >= 0 && first.memoryTotalBytes > 0);

      controlPlaneDown = true;
      const before = posts.length;
      await delay(3500);
      assert.equal(posts.length, before);
      controlPlaneDown = false;
      await waitFor(() => posts.length > before, 'a post after the outage', running);
      const flushed = posts[before]?.samples ?? [];
      assert.ok(flushed.length >= 3, `expected the kept samples, got ${flushed.length}`);
      const times = posts.flatMap((post) => post.samples.map((sample) => Date.parse(sample.time)));
      assert.deepEqual(
        times,
        [...times].sort((a, b) => a - b),
      );
      assert.equal(new Set(times).size, times.length, 'no sample sent twice');
      for (let i = 1; i < times.length; i++) {
        // Nothing lost: consecutive samples are about one interval apart.
        assert.ok((times[i] ?? 0) - (times[i - 1] ?? 0) < 2500, `gap at ${i}`);
      }

      const stopping = Date.now();
      child.signal('SIGTERM');
      const run = await child.done;
      assert.ok(Date.now() - stopping < 3000, 'stops promptly');
      // /bin/sh dies of the signal; the handler itself stops cleanly.
      assert.match(run.stdout, /SIGTERM: stopping with 0 unsent samples/);
      assert.equal(run.stderr, '');
      assert.ok(!run.stdout.includes(token) && !run.stderr.includes(token));
      assert.match(run.stdout, /keeping \d+ samples: HTTP 503/);
    } finally {
      child?.signal('SIGKILL');
      folder.dispose();
    }
  });
});

function sampleAt(i: number): MetricSample {
  return {
    time: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
    cpuPercent: 1,
    memoryUsedBytes: 1,
    memoryTotalBytes: 2,
    diskUsedBytes: 1,
    diskTotalBytes: 2,
  };
}

function listen(server: Server): Promise<void> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(
  condition: () => boolean,
  what: string,
  handler: RunningHandler,
  timeoutMs = 15_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end)
      throw new Error(`timed out waiting for ${what}; handler said:\n${handler.output()}`);
    await delay(50);
  }
}
