// Stopping a server (SIGTERM, close()) while an agent holds its goal-state long poll over a
// keep-alive connection and another client sits idle on one: the poll is answered at once with
// `Connection: close`, both connections are closed by the server, and close() is done long
// before the 10-second cut-off for requests still running — a poll whose client went away
// included, though nothing is ever sent to it. The test's own timeout (8 s) is that bound:
// finishing at all shows the cut-off was not needed.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { systemClock } from '../clock.js';
import { machineScope, resourceGroupScope } from '../resources/arm-scope.js';
import { openDatabase } from '../store/open-database.js';
import { dataDirPaths, ensureDataDir } from './data-dir.js';
import { initializeInstallation, type Installation } from './initialize-installation.js';
import { startServer, type RunningServer } from './start-server.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(
  url: string,
  options: {
    ca: string;
    agent: Agent;
    method?: string;
    token?: string;
    form?: string;
    /** Called once the whole request has been handed to the connection. */
    sent?: () => void;
  },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      {
        ca: options.ca,
        agent: options.agent,
        method: options.method ?? 'GET',
        headers: {
          ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
          ...(options.form === undefined
            ? {}
            : { 'content-type': 'application/x-www-form-urlencoded' }),
        },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    outgoing.on('error', reject);
    outgoing.on('finish', () => options.sent?.());
    outgoing.end(options.form);
  });
}

void describe('stopping a server', () => {
  let root: string;
  let installation: Installation;
  let running: RunningServer;
  let machinePath: string;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'tether-shutdown-'));
    const paths = dataDirPaths(join(root, 'data'));
    await ensureDataDir(paths);
    const db = await openDatabase({ kind: 'sqlite', file: paths.database });
    installation = await initializeInstallation(db, systemClock);
    const now = new Date().toISOString();
    const sub = installation.subscriptionId;
    await db
      .insertInto('resource_groups')
      .values({
        id: resourceGroupScope(sub, 'servers'),
        subscription_id: sub,
        name: 'servers',
        location: 'westeurope',
        tags: '{}',
        created_at: now,
      })
      .execute();
    machinePath = machineScope(sub, 'servers', 'web-01');
    await db
      .insertInto('machines')
      .values({
        id: machinePath,
        subscription_id: sub,
        resource_group: 'servers',
        name: 'web-01',
        location: 'westeurope',
        tags: '{}',
        properties: JSON.stringify({ vmId: randomUUID(), osName: 'linux' }),
        created_at: now,
        updated_at: now,
      })
      .execute();
    await db.destroy();
    running = await startServer({
      dataDir: paths.root,
      listen: { host: '127.0.0.1', port: 0 },
      subjectAltNames: [],
      keyRotationMs: 86_400_000,
      clock: systemClock,
      logLevel: 'error',
    });
  });
  after(async () => {
    await running.close().catch(() => undefined);
    await rm(root, { recursive: true, force: true });
  });

  void it(
    'answers a held long poll at once with Connection: close and closes idle keep-alive connections',
    { timeout: 8_000 },
    async () => {
      const ca = await readFile(join(root, 'data', 'tls', 'ca.crt'), 'utf8');
      const polling = new Agent({ keepAlive: true, maxSockets: 1 });
      const idle = new Agent({ keepAlive: true, maxSockets: 1 });
      const tokenAnswer = await call(`${running.url}/${installation.tenantId}/oauth2/v2.0/token`, {
        ca,
        agent: idle,
        method: 'POST',
        form: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: installation.appId,
          client_secret: installation.password,
          scope: 'https://management.azure.com/.default',
        }).toString(),
      });
      assert.equal(tokenAnswer.status, 200, tokenAnswer.body);
      const token = (JSON.parse(tokenAnswer.body) as { access_token: string }).access_token;
      // The idle client's connection stays open after its answer (keep-alive).
      const idleSockets: Socket[] = [];
      idle.on('free', (socket: Socket) => idleSockets.push(socket));
      await call(`${running.url}/healthz`, { ca, agent: idle });
      assert.ok(idleSockets.length > 0, 'the idle connection was kept alive');
      const idleClosed = new Promise<void>((resolve) => idleSockets[0]!.once('close', resolve));

      // A poll held, then left by its client: its handler ends without answering anyone.
      const leaving = new Agent({ keepAlive: true, maxSockets: 1 });
      const left = request(
        `${running.url}${machinePath}/extensionGoalState?api-version=2024-07-10&after=0&wait=60`,
        { ca, agent: leaving, headers: { authorization: `Bearer ${token}` } },
      );
      left.on('error', () => undefined);
      left.end();
      await new Promise((resolve) => setTimeout(resolve, 500));
      left.destroy();
      leaving.destroy();

      // Generation 0 is current: the poll waits (up to 60 s) for a change.
      let sent!: () => void;
      const pollSent = new Promise<void>((resolve) => (sent = resolve));
      const poll = call(
        `${running.url}${machinePath}/extensionGoalState?api-version=2024-07-10&after=0&wait=60`,
        { ca, agent: polling, token, sent },
      );
      await pollSent;
      // Time for the server to take the request up; had it not, the poll would fail below
      // (refused or reset), not pass.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const closed = running.close();
      const answer = await poll;
      assert.equal(answer.status, 200, answer.body);
      assert.equal(answer.headers['connection'], 'close');
      await idleClosed;
      await closed;
      polling.destroy();
      idle.destroy();
    },
  );
});
