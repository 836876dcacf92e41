// The agent channel end to end: the real `tether server` (tokens of one minute), real agents
// under temporary roots, real TLS. Heartbeats go over the channel and move the machine's
// lastHeartbeat; a revoked credential closes the channel and the heartbeat is refused; a token
// that expires closes the channel and the agent opens the next with a new token; a node stopped
// closes its channels with 1001 and the agents go on with the node started again.
import assert from 'node:assert/strict';
import { agentPaths } from '@tether/agent/paths';
import { readServiceStatus } from '@tether/agent/himds/service-status';
import { after, before, test } from 'node:test';
import { createResourceGroup } from '../arm/arm-fixtures.js';
import {
  connectAgent,
  heartbeatWatch,
  startControlPlane,
  waitFor,
  type ConnectedAgent,
  type ControlPlane,
} from '../harness/index.js';

const ROOT_ONLY = process.geteuid?.() === 0 ? false : 'connect needs root';
const RG = 'channel';
/** Longer than the token's minute: the server closes the channel before the next heartbeat. */
const SLOW_HEARTBEAT_SECONDS = 65;

let plane: ControlPlane;
const agents: ConnectedAgent[] = [];
let slow: ConnectedAgent;
let slowStarted = 0;

interface LogLine {
  msg?: string;
  machineId?: string;
  code?: number;
  url?: string;
}

/** The server's log lines with `msg` about machine `name`. */
function serverLines(msg: string, name: string): LogLine[] {
  return plane
    .logs()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine)
    .filter((line) => line.msg === msg && line.machineId?.endsWith(`/machines/${name}`) === true);
}

async function lastHeartbeat(agent: ConnectedAgent): Promise<string> {
  // The administrator's token lives a minute too.
  plane.admin.forgetToken();
  const got = await plane.admin.call('GET', `${agent.machinePath}?api-version=2024-07-10`);
  assert.equal(got.status, 200, JSON.stringify(got.body));
  const properties = got.body['properties'] as Record<string, unknown>;
  assert.equal(properties['status'], 'Connected');
  return String(properties['lastHeartbeat']);
}

async function connected(name: string, env: Record<string, string> = {}) {
  const agent = await connectAgent(plane, { resourceGroup: RG, name });
  agents.push(agent);
  await agent.startHimds(env);
  return agent;
}

before(async () => {
  if (ROOT_ONLY !== false) return;
  plane = await startControlPlane({ serverArgs: ['--token-lifetime', '1m'] });
  await createResourceGroup(plane, RG);
  // Started first: its token expires while the other tests run.
  slow = await connected('chan-slow', {
    AZCMAGENT_HEARTBEAT_SECONDS: String(SLOW_HEARTBEAT_SECONDS),
  });
  slowStarted = Date.now();
});

after(async () => {
  for (const agent of agents) await agent.stop();
  await plane?.stop();
});

void test(
  "heartbeats travel over the channel and move the machine's lastHeartbeat",
  { skip: ROOT_ONLY, timeout: 60_000 },
  async () => {
    const agent = await connected('chan-a');
    const heartbeats = heartbeatWatch(agentPaths(agent.root));
    await heartbeats.next();
    const first = await lastHeartbeat(agent);
    await heartbeats.next();
    const second = await lastHeartbeat(agent);
    assert.ok(Date.parse(second) > Date.parse(first), `${second} after ${first}`);
    assert.equal(serverLines('agent channel opened', 'chan-a').length, 1);
    const posted = plane
      .logs()
      .split('\n')
      .filter((line) => line.includes('/machines/chan-a/heartbeat'));
    assert.deepEqual(posted, [], 'no heartbeat of this machine came by POST');
    assert.doesNotMatch(agent.logs(), /agent channel unavailable/);
  },
);

void test(
  'a revoked credential closes the channel and the heartbeat is refused',
  { skip: ROOT_ONLY, timeout: 60_000 },
  async () => {
    const agent = await connected('chan-r');
    await heartbeatWatch(agentPaths(agent.root)).next();
    plane.admin.forgetToken();
    const revoked = await plane.admin.call(
      'POST',
      `${agent.machinePath}/revokeCredential?api-version=2024-07-10`,
    );
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    await waitFor('the channel closed with 4401', () =>
      serverLines('agent channel closed', 'chan-r').some((line) => line.code === 4401)
        ? true
        : undefined,
    );
    const status = await waitFor('the refusal in the status file', () => {
      const error = readServiceStatus(agentPaths(agent.root).serviceStatus('himds'))?.lastError;
      return error?.includes("refuses this machine's identity") === true ? error : undefined;
    });
    assert.match(status, /InvalidAuthenticationToken/);
  },
);

void test(
  'a token that expires closes the channel, and the agent opens the next with a new token',
  { skip: ROOT_ONLY, timeout: 120_000 },
  async () => {
    const heartbeats = heartbeatWatch(agentPaths(slow.root));
    const seen = (msg: string): LogLine[] => serverLines(msg, 'chan-slow');
    await waitFor(
      'the channel closed at its token expiry',
      () => (seen('agent channel closed').some((line) => line.code === 4401) ? true : undefined),
      Math.max(10_000, 90_000 - (Date.now() - slowStarted)),
    );
    const before = await lastHeartbeat(slow);
    const finished = heartbeats.last();
    await waitFor(
      'the next heartbeat',
      () => (heartbeats.last() !== finished ? true : undefined),
      (SLOW_HEARTBEAT_SECONDS + 15) * 1000,
    );
    assert.ok(Date.parse(await lastHeartbeat(slow)) > Date.parse(before));
    assert.equal(seen('agent channel opened').length, 2);
    assert.match(slow.logs(), /the channel closed \(4401 the access token expired/);
    assert.doesNotMatch(slow.logs(), /agent channel unavailable|heartbeat failed/);
  },
);

void test(
  'a node stopped closes its channels with 1001 and the agent goes on',
  { skip: ROOT_ONLY, timeout: 60_000 },
  async () => {
    const agent = agents.find((a) => a.name === 'chan-a');
    assert.ok(agent !== undefined);
    const heartbeats = heartbeatWatch(agentPaths(agent.root));
    await plane.restart();
    await heartbeats.next();
    await heartbeats.next();
    assert.match(agent.logs(), /the channel closed \(1001 the control-plane node is stopping/);
    assert.equal(serverLines('agent channel opened', 'chan-a').length, 1, 'a new channel');
    assert.ok(Date.parse(await lastHeartbeat(agent)) > 0);
  },
);
