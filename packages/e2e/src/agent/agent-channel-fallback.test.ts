// An agent whose control plane refuses the channel's upgrade (here `tether server
// --no-agent-channel`, answering 426 as a server or proxy without it answers some error) sends
// its heartbeats with the HTTPS POST and says so; the machine's lastHeartbeat moves.
import assert from 'node:assert/strict';
import { agentPaths } from '@tether/agent/paths';
import { after, before, test } from 'node:test';
import { createResourceGroup } from '../arm/arm-fixtures.js';
import {
  connectAgent,
  heartbeatWatch,
  startControlPlane,
  type ConnectedAgent,
  type ControlPlane,
} from '../harness/index.js';

const ROOT_ONLY = process.geteuid?.() === 0 ? false : 'connect needs root';
const RG = 'fallback';
let plane: ControlPlane;
let agent: ConnectedAgent;

before(async () => {
  if (ROOT_ONLY !== false) return;
  plane = await startControlPlane({ serverArgs: ['--no-agent-channel'] });
  await createResourceGroup(plane, RG);
  agent = await connectAgent(plane, { resourceGroup: RG, name: 'posting' });
  await agent.startHimds();
});

after(async () => {
  await agent?.stop();
  await plane?.stop();
});

async function lastHeartbeat(): Promise<number> {
  const got = await plane.admin.call('GET', `${agent.machinePath}?api-version=2024-07-10`);
  assert.equal(got.status, 200, JSON.stringify(got.body));
  return Date.parse(String((got.body['properties'] as Record<string, unknown>)['lastHeartbeat']));
}

void test(
  'a refused upgrade sends the heartbeats by POST',
  { skip: ROOT_ONLY, timeout: 60_000 },
  async () => {
    const heartbeats = heartbeatWatch(agentPaths(agent.root));
    await heartbeats.next();
    const first = await lastHeartbeat();
    await heartbeats.next();
    assert.ok((await lastHeartbeat()) > first);
    // Tried again after a jittered backoff, which may already have come: each time refused.
    const unavailable = agent.logs().match(/agent channel unavailable \([^)]*\)/g) ?? [];
    assert.ok(unavailable.length >= 1);
    for (const line of unavailable)
      assert.equal(line, 'agent channel unavailable (the upgrade was answered 426)');
    assert.match(plane.logs(), /\/machines\/posting\/heartbeat\?api-version/);
    assert.doesNotMatch(plane.logs(), /agent channel opened/);
  },
);
