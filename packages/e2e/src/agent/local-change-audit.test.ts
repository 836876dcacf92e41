// Local changes are audited centrally: a real `azcmagent config set` on a connected agent shows
// in the control plane's activity log, and in `tether activity list`, with the local uid that
// made it, by the first heartbeat HIMDS starts after the change. Real processes throughout.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { agentPaths, type AgentPaths } from '@tether/agent/paths';
import { readServiceStatus } from '@tether/agent/himds/service-status';
import { createResourceGroup } from '../arm/arm-fixtures.js';
import {
  connectAgent,
  heartbeatWatch,
  startControlPlane,
  tetherCli,
  waitFor,
  type ConnectedAgent,
  type ControlPlane,
  type HeartbeatWatch,
} from '../harness/index.js';

const ROOT_ONLY = process.geteuid?.() === 0 ? false : 'connect and config set need root';
const RG = 'local-audit';
const OPERATION = 'Microsoft.HybridCompute/machines/localConfiguration/write';
const AMA = 'Microsoft.Azure.Monitor/AzureMonitorLinuxAgent';

let plane: ControlPlane;
let agent: ConnectedAgent;
let paths: AgentPaths;
let heartbeats: HeartbeatWatch;
let cliHome = '';

before(async () => {
  if (ROOT_ONLY !== false) return;
  plane = await startControlPlane();
  await createResourceGroup(plane, RG);
  agent = await connectAgent(plane, { resourceGroup: RG, name: 'audited1' });
  paths = agentPaths(agent.root);
  heartbeats = heartbeatWatch(paths);
  await agent.startHimds();
  cliHome = mkdtempSync(join(tmpdir(), 'tether-cli-audit-'));
});

after(async () => {
  await agent?.stop();
  await plane?.stop();
  if (cliHome !== '') rmSync(cliHome, { recursive: true, force: true });
});

interface LocalEvent {
  readonly callerDisplayName: string;
  readonly properties: Record<string, unknown>;
}

async function localEvents(): Promise<LocalEvent[]> {
  const events = await plane.admin.call(
    'GET',
    `/subscriptions/${plane.subscriptionId}/providers/Microsoft.Insights/eventtypes/management/values?api-version=2015-04-01&$filter=${encodeURIComponent(
      `eventTimestamp ge '2000-01-01T00:00:00Z' and resourceUri eq '${agent.machinePath}'`,
    )}`,
  );
  assert.equal(events.status, 200, JSON.stringify(events.body));
  return (events.body['value'] as { operationName: { value: string } }[]).filter(
    (event) => event.operationName.value === OPERATION,
  ) as unknown as LocalEvent[];
}

const journalIdOf = (): string =>
  (
    JSON.parse(readFileSync(paths.localChangeJournal, 'utf8').split('\n')[0] ?? '') as {
      journalId: string;
    }
  ).journalId;

void test(
  'a config set extensions.allowlist run appears in the activity log with its local uid within one heartbeat',
  { skip: ROOT_ONLY, timeout: 120_000 },
  async () => {
    await waitFor('the first heartbeat', () => heartbeats.last());
    const set = await agent.run(['config', 'set', 'extensions.allowlist', AMA]);
    assert.equal(set.status, 0, set.stderr);
    // Root's journal, which the himds group may read and nobody else may change.
    assert.equal(statSync(paths.localChangeJournal).mode & 0o777, 0o640);
    assert.equal(statSync(paths.localChangeJournal).uid, 0);

    await heartbeats.next();

    const local = await localEvents();
    assert.equal(local.length, 1, JSON.stringify(local));
    const [event] = local;
    assert.equal(event?.callerDisplayName, 'audited1');
    assert.deepEqual(
      {
        ...event?.properties,
        localTime: typeof event?.properties['localTime'],
        journalId: typeof event?.properties['journalId'],
      },
      {
        localUserId: process.getuid?.(),
        localUserName: userInfo().username,
        property: 'extensions.allowlist',
        oldValue: '[]',
        newValue: `[${AMA}]`,
        localTime: 'string',
        sequence: 1,
        journalId: 'string',
      },
    );
    // Acknowledged: HIMDS sends it no more.
    assert.equal(readServiceStatus(paths.serviceStatus('himds'))?.localChangesAcknowledged, 1);

    const cli = tetherCli(plane, cliHome);
    const login = await cli.login();
    assert.equal(login.code, 0, login.stderr);
    const listed = await cli.run([
      'activity',
      'list',
      '--resource-id',
      agent.machinePath,
      '-o',
      'table',
    ]);
    assert.equal(listed.code, 0, listed.stderr);
    const line = listed.stdout.split('\n').find((l) => l.includes(OPERATION)) ?? '';
    assert.match(
      line,
      new RegExp(
        `uid ${process.getuid?.()} \\(${userInfo().username}\\): extensions\\.allowlist \\[\\] -> \\[${AMA.replace(/\./g, '\\.')}\\]$`,
      ),
      listed.stdout,
    );
  },
);

void test(
  'after root deletes the change journal, the next change (numbered 1 again) still reaches the activity log',
  { skip: ROOT_ONLY, timeout: 120_000 },
  async () => {
    await waitFor('the first heartbeat', () => heartbeats.last());
    const first = await agent.run(['config', 'set', 'extensions.blocklist', 'Bad.Pub/One']);
    assert.equal(first.status, 0, first.stderr);
    await heartbeats.next();
    const before = await localEvents();
    assert.deepEqual(
      before.map((e) => [e.properties['sequence'], e.properties['newValue']]).sort(),
      [
        [1, `[${AMA}]`],
        [2, '[Bad.Pub/One]'],
      ],
    );
    const oldJournal = journalIdOf();

    rmSync(paths.localChangeJournal);
    const set = await agent.run(['config', 'set', 'extensions.blocklist', 'Bad.Pub/Two']);
    assert.equal(set.status, 0, set.stderr);
    const newJournal = journalIdOf();
    assert.notEqual(newJournal, oldJournal);
    await heartbeats.next();

    const fresh = (await localEvents()).filter((e) => e.properties['journalId'] === newJournal);
    assert.deepEqual(
      fresh.map((e) => ({
        sequence: e.properties['sequence'],
        property: e.properties['property'],
        oldValue: e.properties['oldValue'],
        newValue: e.properties['newValue'],
        localUserId: e.properties['localUserId'],
      })),
      [
        {
          sequence: 1,
          property: 'extensions.blocklist',
          oldValue: '[Bad.Pub/One]',
          newValue: '[Bad.Pub/Two]',
          localUserId: process.getuid?.(),
        },
      ],
    );
    assert.equal((await localEvents()).length, before.length + 1);
    const status = readServiceStatus(paths.serviceStatus('himds'));
    assert.equal(status?.localChangesJournal, newJournal);
    assert.equal(status?.localChangesAcknowledged, 1);
  },
);
