// `tether server --workers 2` over PostgreSQL, as real processes with simulated agents that
// speak the real protocol: the port is served by both workers, with one certificate made as
// the node starts; an extension request written
// through one wakes the goal-state long polls held by the other; a worker killed with -9 is
// started again and its agents are served meanwhile by the other; SIGTERM to the primary
// stops every process, the workers with their own graceful shutdown. Over SQLite, more than one
// worker is refused. Needs PostgreSQL (TETHER_TEST_POSTGRES_URL, or Debian's postgresql).
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect } from 'node:tls';
import { freePort } from '@tether/e2e/dist/harness/free-port.js';
import {
  postgresUnavailable,
  startTestPostgres,
  type TestPostgres,
} from '@tether/e2e/dist/harness/postgres-server.js';
import {
  firstPartyPackage,
  makePublisherKey,
  publishPackage,
  type PackageRef,
} from '../extension-publisher.js';
import { TetherApi, V, type Installation } from '../machine-fleet.js';
import { exited, runTether } from '../tether-process.js';
import { initInstallation, startNode, type TetherNode } from './cluster.js';
import type { SimulatedMachine } from './fleet-protocol.js';
import { onboardSimulatedMachines, SimulatedFleet } from './simulated-fleet.js';

const unavailable = postgresUnavailable();
const MACHINES = 6;
/** Far longer than any wait below: a poll answered sooner was woken, not timed out. */
const POLL_WAIT_SECONDS = 55;

interface LogLine {
  msg?: string;
  worker?: number;
  pid?: number;
  req?: { method?: string; url?: string };
}

/** `what` names the wait; as a function, it can say how far things got when it runs out. */
async function until<T>(
  what: string | (() => string),
  probe: () => Promise<T | undefined> | T | undefined,
  ms = 30_000,
) {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline)
      assert.fail(`${typeof what === 'string' ? what : what()}: not within ${ms / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

void describe('tether server --workers', { skip: unavailable ?? false }, () => {
  const children: ChildProcess[] = [];
  let root: string;
  let database: TestPostgres;
  let install: Installation;
  let node: TetherNode;
  let logFile: string;
  let api: TetherApi;
  let admin: string;
  let machines: SimulatedMachine[];
  let fleet: SimulatedFleet;
  let extension: PackageRef;
  let tlsDir: string;

  const logs = (): LogLine[] =>
    readFileSync(logFile, 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as LogLine);
  /** The workers that took requests whose URL matches, from their request log lines. */
  const servedBy = (method: string, url: RegExp): Set<number> =>
    new Set(
      logs()
        .filter((l) => l.msg === 'incoming request' && l.req?.method === method)
        .filter((l) => url.test(l.req?.url ?? ''))
        .map((l) => l.worker ?? 0),
    );
  /** Each worker's latest process, from the primary's log. */
  const workerPids = (): Map<number, number> =>
    new Map(
      logs()
        .filter((l) => l.msg === 'worker serving')
        .map((l) => [l.worker ?? 0, l.pid ?? 0]),
    );

  /** Writes the extension on every machine, all through one connection (so one worker). */
  const writeExtension = async (name: string): Promise<void> => {
    const writer = new TetherApi(api.url, node.port, Buffer.from(readFileSync(install.caCert)), 1);
    try {
      for (const m of machines) {
        const answer = await writer.call('PUT', `${m.path}/extensions/${name}?${V}`, admin, {
          location: 'westeurope',
          properties: {
            publisher: extension.publisher,
            type: extension.type,
            typeHandlerVersion: extension.version.split('.').slice(0, 2).join('.'),
            settings: { commandToExecute: `echo ${name}` },
          },
        });
        assert.ok(answer.status < 300, `PUT extension: ${answer.status} ${answer.text}`);
      }
    } finally {
      writer.destroy();
    }
  };

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'tether-workers-'));
    database = await startTestPostgres();
    const dataDir = join(root, 'data');
    install = await initInstallation(dataDir, database.url);
    // No server certificate yet: one is made as the node starts, and every worker must serve it.
    await rm(join(dataDir, 'tls', 'server.crt'));
    await rm(join(dataDir, 'tls', 'server.key'));
    tlsDir = join(dataDir, 'tls');
    const port = await freePort();
    const publicUrl = `https://localhost:${port}`;
    logFile = join(root, 'server.log');
    node = await startNode(
      {
        dataDir,
        databaseUrl: database.url,
        publicUrl,
        port,
        // Small pools: CI's PostgreSQL (100 connections) serves other tests at the same time.
        flags: ['--workers', '2', '--database-pool-size', '3', '--log-level', 'info'],
        logFile,
      },
      children,
    );
    const configDir = join(root, 'cli');
    await mkdir(configDir);
    const cli = { install, url: publicUrl, configDir };
    extension = firstPartyPackage('Microsoft.Azure.Extensions', 'CustomScript');
    await publishPackage(cli, await makePublisherKey(cli, join(configDir, 'key')), extension);
    api = new TetherApi(publicUrl, port, Buffer.from(await readFile(install.caCert)), 1);
    admin = await api.adminToken(install);
    const group = `/subscriptions/${install.subscriptionId}/resourceGroups/workers`;
    const made = await api.call('PUT', `${group}?api-version=2021-04-01`, admin, {
      location: 'westeurope',
    });
    assert.ok(made.status < 300, made.text);
    machines = await onboardSimulatedMachines(api, admin, group, MACHINES);
    // Each machine's long poll on a connection of its own: the primary hands them out in turn.
    fleet = await SimulatedFleet.start({
      nodes: [{ host: '127.0.0.1', port }],
      ca: readFileSync(install.caCert, 'utf8'),
      tenantId: install.tenantId,
      publicUrl,
      machines,
      workers: 1,
      longPoll: true,
      pollWaitSeconds: POLL_WAIT_SECONDS,
      sharedConnections: 1,
    });
  });
  after(async () => {
    await fleet?.stop().catch(() => undefined);
    api?.destroy();
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(children.map(exited));
    for (const pid of workerPids().values()) if (alive(pid)) process.kill(pid, 'SIGKILL');
    await database?.dispose();
    await rm(root, { recursive: true, force: true });
  });

  void it('serves one certificate from every worker, the one on disk with its key', async () => {
    const served = new Set<string>();
    for (let i = 0; i < 6; i++) {
      served.add(
        await new Promise<string>((resolve, reject) => {
          const socket = connect(
            { host: '127.0.0.1', port: node.port, ca: readFileSync(install.caCert) },
            () => {
              resolve(socket.getPeerX509Certificate()?.fingerprint256 ?? '');
              socket.end();
            },
          );
          socket.once('error', reject);
        }),
      );
    }
    const onDisk = new X509Certificate(readFileSync(join(tlsDir, 'server.crt')));
    assert.deepEqual([...served], [onDisk.fingerprint256]);
    assert.ok(onDisk.checkPrivateKey(createPrivateKey(readFileSync(join(tlsDir, 'server.key')))));
  });

  void it('wakes a long poll held by one worker with a write through the other', async () => {
    const polls = /\/extensionGoalState\?.*&wait=/;
    await until('long polls held on both workers', () =>
      servedBy('GET', polls).size === 2 ? true : undefined,
    );
    assert.deepEqual([...servedBy('GET', polls)].sort(), [1, 2]);
    const started = Date.now();
    await writeExtension('first');
    const writers = servedBy('PUT', /\/extensions\/first\?/);
    assert.equal(writers.size, 1, 'every write went through one worker');
    await until('every machine given the request', async () => {
      const { operations } = await fleet.stats();
      return machines.every((m) => operations.get(m.name)?.includes('first')) ? true : undefined;
    });
    // The polls were answered by the write, not by their wait running out.
    assert.ok(Date.now() - started < POLL_WAIT_SECONDS * 1000);
  });

  void it('starts a worker killed with -9 again; its agents are served meanwhile', async () => {
    const before = workerPids();
    assert.equal(before.size, 2);
    const victim = before.get(1) as number;
    fleet.heartbeats(500);
    const killedAt = Date.now();
    process.kill(victim, 'SIGKILL');
    const restarted = await until('worker 1 started again', () => {
      const pid = workerPids().get(1);
      return pid !== undefined && pid !== victim ? pid : undefined;
    });
    assert.ok(alive(restarted));
    assert.ok(alive(before.get(2) as number), 'the other worker went on');
    assert.ok(
      logs().some((l) => l.msg === 'worker died; starting it again' && l.pid === victim),
      'the primary says which worker died',
    );
    // Every machine's heartbeat answered after the kill, and every long poll held again: no
    // time is promised, so a machine busy with the rest of the suite gets a minute.
    let unserved = machines.length;
    let held = 0;
    let failures = '';
    await until(
      () =>
        `every machine served after the kill (${unserved} not answered since, ${held} of ${MACHINES} polls held; heartbeats refused ${failures})`,
      async () => {
        const stats = await fleet.stats();
        unserved = machines.filter(
          (m) => (stats.acknowledgedHeartbeats.get(m.name) ?? 0) <= killedAt,
        ).length;
        held = stats.pollsHeld.reduce((a, b) => a + b, 0);
        failures = `${JSON.stringify(stats.heartbeatFailures)}: ${stats.failureSamples.slice(0, 2).join(' | ')}`;
        return unserved === 0 && held === MACHINES ? true : undefined;
      },
      60_000,
    );
    fleet.heartbeats(0);
    await writeExtension('second');
    await until('every machine given the second request', async () => {
      const { operations } = await fleet.stats();
      return machines.every((m) => operations.get(m.name)?.includes('second')) ? true : undefined;
    });
  });

  void it('stops every worker and exits on SIGTERM to the primary', async () => {
    const pids = [...workerPids().values()];
    assert.equal(pids.length, 2);
    const started = Date.now();
    node.child.kill('SIGTERM');
    await exited(node.child);
    assert.equal(node.child.exitCode, 0, readFileSync(logFile, 'utf8'));
    for (const pid of pids) assert.equal(alive(pid), false, `worker ${pid} still runs`);
    const stopped = logs().filter((l) => l.msg === 'tether stopped');
    assert.deepEqual(stopped.map((l) => l.worker ?? 0).sort(), [0, 1, 2]);
    // The held polls were answered at once, not left to the 10-second cut-off.
    assert.ok(Date.now() - started < 10_000, 'the workers waited for their shutdown cut-off');
    assert.ok(!readFileSync(logFile, 'utf8').includes('shutdown cut-off'));
  });

  void it('is refused over SQLite', async () => {
    const dataDir = join(root, 'sqlite');
    await initInstallation(dataDir, undefined);
    await assert.rejects(
      runTether(['server', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--workers', '2']),
      /--workers 2 needs --database-url postgres:/,
    );
  });
});
