// The fleet simulator's seeding against real onboarding: one machine onboarded through the
// API of a real `tether server`, one seeded into the same (stopped) installation; the rows each
// has in every table onboarding writes are the same once names, ids, keys and times are set
// aside, and after a restart both machines sign in with their keys and send heartbeats.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { dataDirPaths } from '@tether/control-plane/server/data-dir';
import { machineScope } from '@tether/control-plane/resources/arm-scope';
import { openDatabase } from '@tether/control-plane/store/open-database';
import { SIMULATED_MACHINE_PROPERTIES, TetherApi } from '../machine-fleet.js';
import { exited } from '../tether-process.js';
import { FLEET_PUBLIC_URL, initInstallation, startNode, stopNode } from './cluster.js';
import type { SimulatedMachine } from './fleet-protocol.js';
import { seedSimulatedMachines } from './seed-machines.js';
import { onboardSimulatedMachines, SimulatedFleet } from './simulated-fleet.js';

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

void describe('seeded simulated machines', () => {
  const children: ChildProcess[] = [];
  let root: string | undefined;
  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(children.map(exited));
    if (root !== undefined) await rm(root, { recursive: true, force: true });
  });

  void it('have the rows onboarding writes, and sign in and send heartbeats', async () => {
    root = await mkdtemp(join(tmpdir(), 'tether-seed-'));
    const dataDir = join(root, 'data');
    const install = await initInstallation(dataDir, undefined);
    const group = `/subscriptions/${install.subscriptionId}/resourceGroups/seeding`;
    let node = await startNode({ dataDir }, children);
    const ca = await readFile(install.caCert, 'utf8');
    const api = new TetherApi(FLEET_PUBLIC_URL, node.port, Buffer.from(ca));
    const admin = await api.adminToken(install);
    const put = await api.call('PUT', `${group}?api-version=2021-04-01`, admin, {
      location: 'westeurope',
    });
    assert.equal(put.status, 201, put.text);
    const [onboarded] = await onboardSimulatedMachines(api, admin, group, 1, 'api-');
    api.destroy();
    await stopNode(node);

    const database = { kind: 'sqlite' as const, file: dataDirPaths(dataDir).database };
    const [seeded] = await seedSimulatedMachines({
      database,
      group,
      count: 1,
      prefix: 'seeded-',
      properties: SIMULATED_MACHINE_PROPERTIES,
    });
    assert.ok(onboarded !== undefined && seeded !== undefined);
    assert.deepEqual(await rowsOf(database.file, seeded), await rowsOf(database.file, onboarded));

    node = await startNode({ dataDir }, children);
    const fleet = await SimulatedFleet.start({
      nodes: [{ host: '127.0.0.1', port: node.port }],
      ca,
      tenantId: install.tenantId,
      publicUrl: FLEET_PUBLIC_URL,
      machines: [onboarded, seeded],
      workers: 1,
      longPoll: true,
      // Paced, as the largest fleet's machines start: each token and first poll takes a slot.
      connectsPerSecond: 20,
    });
    try {
      fleet.heartbeats(200);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const stats = await fleet.stats();
      assert.deepEqual(stats.heartbeatFailures, {});
      assert.equal(
        stats.pollsHeld.reduce((a, b) => a + b, 0),
        2,
        'both hold their long poll',
      );
      assert.equal(stats.busyAnswers, 0);
      for (const machine of [onboarded, seeded]) {
        assert.ok(
          stats.acknowledgedHeartbeats.has(machine.name),
          `${machine.name} had a heartbeat answered 200`,
        );
      }
    } finally {
      await fleet.stop();
      await stopNode(node);
    }
  });
});

/**
 * A machine's rows in every table onboarding writes, with what is the machine's own (its name,
 * ids, key and the times) replaced by what it stands for, so two machines can be compared.
 */
async function rowsOf(file: string, machine: SimulatedMachine): Promise<unknown> {
  const db = await openDatabase({ kind: 'sqlite', file });
  const [, subscriptionId = '', group = ''] =
    /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\//.exec(machine.path) ?? [];
  const id = machineScope(subscriptionId, group, machine.name);
  try {
    const machines = await db.selectFrom('machines').selectAll().where('id', '=', id).execute();
    const created = Date.parse(machines[0]?.created_at ?? '');
    const principals = await db
      .selectFrom('principals')
      .selectAll()
      .where('machine_id', '=', id)
      .execute();
    const ids = principals.map((p) => p.id);
    const tables = {
      machines,
      principals,
      credentials: await db
        .selectFrom('credentials')
        .selectAll()
        .where('principal_id', 'in', ids)
        .execute(),
      machine_agents: await db
        .selectFrom('machine_agents')
        .selectAll()
        .where('machine_id', '=', id)
        .execute(),
      role_assignments: await db
        .selectFrom('role_assignments')
        .selectAll()
        .where('principal_id', 'in', ids)
        .execute(),
    };
    const named = new Map<string, string>([
      [id, '<machine id>'],
      [machine.name, '<machine name>'],
      [machine.principalId, '<principal id>'],
      [machine.kid, '<key id>'],
    ]);
    const normal = (value: unknown): unknown => {
      if (typeof value === 'string') {
        const known = named.get(value);
        if (known !== undefined) return known;
        if (ISO_TIME.test(value)) {
          return `onboarding + ${Math.round((Date.parse(value) - created) / 3_600_000)} h`;
        }
        if (UUID.test(value)) return '<uuid>';
        if (value.startsWith('{')) return normal(JSON.parse(value));
        if (/^[A-Za-z0-9+/]{80,}={0,2}$/.test(value)) return '<public key>';
        return value;
      }
      if (Array.isArray(value)) return value.map(normal);
      if (value !== null && typeof value === 'object') {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normal(v)]));
      }
      return value;
    };
    return normal(tables);
  } finally {
    await db.destroy();
  }
}
