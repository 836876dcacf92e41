// The extension-push floor as a real process, with the fleets the bench drives against it over
// TLS: channels greeted, each told of its own machine's PUT and fetching the goal state that
// names it, long polls answered by their machine's PUT, goal states carrying every extension a
// machine was given, and a machine whose PUT was never made left without a delivery.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { selfSignedLocalhost } from '@tether/control-plane/cli/client/testing/test-certificate';
import type { FloorScript } from './benches/extension-push.js';
import { LongPollFleet, operationNamed, type PollingMachine } from './long-poll-fleet.js';
import { TetherApi, V, type Answer } from './machine-fleet.js';
import { NoticeFleet } from './notice-fleet.js';
import { exited, listening } from './tether-process.js';

const SAMPLE_OPERATION = '5a1f0c9e-2b7d-4c3a-8e6f-0d9b8a7c6e5f';
const machinePath = (i: number): string =>
  `/subscriptions/s/resourceGroups/g/providers/Microsoft.HybridCompute/machines/m${i}`;
const goalState = (generation: number): string =>
  JSON.stringify({
    generation,
    extensions: [
      {
        name: 'PushSample',
        type: 'PushProbe',
        settings: { probe: true },
        operation: { id: SAMPLE_OPERATION, kind: 'install' },
      },
    ],
  });
const answer = (status: number, text: string, headers: Record<string, string> = {}): Answer => ({
  status,
  text,
  headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
});
const SCRIPT: FloorScript = {
  initial: answer(200, '{"generation":0,"extensions":[]}'),
  put: answer(
    201,
    JSON.stringify({ name: 'PushSample', properties: { provisioningState: 'Creating' } }),
    {
      'azure-asyncoperation': `https://localhost/operations/${SAMPLE_OPERATION}`,
    },
  ),
  delivery: answer(200, goalState(1)),
  fetched: answer(200, goalState(1)),
  hello: JSON.stringify({ type: 'hello', notices: ['extensions', 'guestConfiguration'] }),
  notice: JSON.stringify({ type: 'goalStateChanged', service: 'extensions' }),
  operationId: SAMPLE_OPERATION,
  extension: 'PushSample',
};

void describe('extension-push floor', () => {
  let dir = '';
  let floor: ChildProcess | undefined;
  let port = 0;
  let ca: Buffer = Buffer.alloc(0);
  const machines: PollingMachine[] = [0, 1, 2].map((i) => ({
    path: machinePath(i),
    token: `t${i}`,
  }));

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'push-floor-'));
    const { cert, key } = await selfSignedLocalhost();
    ca = Buffer.from(cert);
    await writeFile(join(dir, 'server.crt'), cert);
    await writeFile(join(dir, 'server.key'), key);
    const script = fileURLToPath(new URL('./benches/extension-push.js', import.meta.url));
    floor = spawn(
      process.execPath,
      [script, '--floor', join(dir, 'server.crt'), join(dir, 'server.key')],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    floor.stdin?.end(JSON.stringify(SCRIPT));
    port = Number(await listening(floor, /^floor listening on (\d+)$/m));
  });

  after(async () => {
    floor?.kill('SIGTERM');
    if (floor !== undefined) await exited(floor);
    await rm(dir, { recursive: true, force: true });
  });

  /** PUTs `extension` on the first `count` machines: each one's operation id. */
  async function put(extension: string, count: number): Promise<string[]> {
    const api = new TetherApi('', port, ca, 4);
    try {
      const ids: string[] = [];
      for (const m of machines.slice(0, count)) {
        const a = await api.call('PUT', `${m.path}/extensions/${extension}?${V}`, 'admin', {
          properties: { publisher: 'Tether.Bench' },
        });
        assert.equal(a.status, 201, a.text);
        const id = a.headers['azure-asyncoperation']?.split('/').pop() ?? '';
        assert.notEqual(id, SAMPLE_OPERATION);
        assert.match(a.text, new RegExp(`"${extension}"`));
        ids.push(id);
      }
      return ids;
    } finally {
      api.destroy();
    }
  }

  void it('tells each machine of its own PUT on its channel; its fetch names the operation', async () => {
    const fleet = new NoticeFleet(machines, { port, ca, fetchConnections: 2, extension: 'E1' });
    try {
      await fleet.arm();
      assert.equal(fleet.deliveries.filter((d) => d !== undefined).length, 0);
      const ids = await put('E1', 2);
      await assert.rejects(fleet.delivered(1_000), /1 of 3 machines had no delivery/);
      assert.deepEqual(
        Array.from(fleet.deliveries, (d) => d?.operationId),
        [...ids, undefined],
      );
    } finally {
      fleet.close();
    }
  });

  void it('answers held long polls; goal states carry every extension a machine was given', async () => {
    const fleet = new LongPollFleet(machines, { port, ca, waitSeconds: 30, extension: 'E2' });
    try {
      await fleet.arm();
      const ids = await put('E2', 3);
      await fleet.delivered(5_000);
      assert.deepEqual(
        Array.from(fleet.deliveries, (d) => d?.operationId),
        ids,
      );
      const api = new TetherApi('', port, ca, 1);
      const a = await api.call('GET', `${machinePath(0)}/extensionGoalState?${V}`, 't0');
      api.destroy();
      assert.equal((JSON.parse(a.text) as { generation: number }).generation, 2);
      assert.ok(operationNamed(a.text, 'E1') !== undefined);
      assert.equal(operationNamed(a.text, 'E2'), ids[0]);
    } finally {
      fleet.close();
    }
  });
});
