// The control plane's side of an agent's life, in process with the real token path: onboard
// with an onboarding token, sign in with the machine key, heartbeat, another machine refused,
// revoke, and the token's machine count.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeOnboardingToken } from '../onboarding/onboarding-token.js';
import { TestControlPlane, TEST_PUBLIC_URL } from '../server/testing/test-control-plane.js';
import { newMachineKey, requestMachineToken, type MachineKey } from './testing/machine-agents.js';
import { DEFAULT_AGENT_CONFIGURATION } from '@tether/protocol';

const V = 'api-version=2024-07-10';

void describe('machine agent flow (in process, real tokens)', () => {
  let cp: TestControlPlane;
  let admin: string;
  let group: string;

  before(async () => {
    cp = await TestControlPlane.start();
    admin = await cp.ownerToken();
    const sub = cp.installation.subscriptionId;
    group = `/subscriptions/${sub}/resourceGroups/fleet`;
    const rg = await cp.request('PUT', `${group}?api-version=2021-04-01`, {
      token: admin,
      body: { location: 'westeurope' },
    });
    assert.ok(rg.status < 300, JSON.stringify(rg.body));
  });
  after(() => cp.close());

  async function onboard(token: string, name: string, agent: MachineKey) {
    return cp.request('PUT', `${group}/providers/Microsoft.HybridCompute/machines/${name}?${V}`, {
      token,
      body: {
        location: 'westeurope',
        identity: { type: 'SystemAssigned' },
        properties: { clientPublicKey: agent.spki, osName: 'linux', agentVersion: '1.0' },
      },
    });
  }

  const machineToken = (principalId: string, agent: MachineKey) =>
    requestMachineToken(cp, principalId, agent);

  void it('says an expired onboarding token expired and how to make a new one', async () => {
    const minted = await cp.request(
      'POST',
      `${group}/providers/Microsoft.HybridCompute/onboardingTokens?${V}`,
      { token: admin, body: { expiresInSeconds: 3600, maxMachines: 1 } },
    );
    assert.equal(minted.status, 200, JSON.stringify(minted.body));
    const decoded = decodeOnboardingToken(String(minted.body['token']));
    cp.clock.advance(2 * 3600 * 1000);
    try {
      const answer = await cp.request('POST', `/${cp.tenantId}/oauth2/v2.0/token`, {
        form: {
          grant_type: 'client_credentials',
          client_id: decoded.appId,
          client_secret: decoded.secret,
          scope: `${TEST_PUBLIC_URL}/.default`,
        },
      });
      assert.equal(answer.status, 401);
      const description = String(answer.body['error_description']);
      assert.match(description, /^AADSTS7000222: The onboarding token expired at \S+\. /);
      assert.match(description, /tether onboarding-token create/);
      assert.doesNotMatch(description, /client secret|addPassword/);
    } finally {
      cp.clock.advance(-2 * 3600 * 1000);
    }
  });

  void it('onboards with a bounded token, heartbeats, refuses others and revoked keys', async () => {
    const minted = await cp.request(
      'POST',
      `${group}/providers/Microsoft.HybridCompute/onboardingTokens?${V}`,
      { token: admin, body: { expiresInSeconds: 7200, maxMachines: 2 } },
    );
    assert.equal(minted.status, 200, JSON.stringify(minted.body));
    const decoded = decodeOnboardingToken(String(minted.body['token']));
    assert.equal(decoded.tenantId, cp.tenantId);
    const onboarding = await cp.token(decoded.appId, decoded.secret, `${TEST_PUBLIC_URL}/.default`);

    const a = newMachineKey();
    const b = newMachineKey();
    const putA = await onboard(onboarding, 'web-a', a);
    assert.equal(putA.status, 201, JSON.stringify(putA.body));
    const identityA = putA.body['identity'] as { principalId: string; type: string };
    assert.equal(identityA.type, 'SystemAssigned');
    const putB = await onboard(onboarding, 'web-b', b);
    assert.equal(putB.status, 201);
    const third = await onboard(onboarding, 'web-c', newMachineKey());
    assert.equal(third.status, 409);
    assert.match(JSON.stringify(third.body), /already created its 2 machine/);
    const takeover = await onboard(onboarding, 'web-a', newMachineKey());
    assert.equal(takeover.status, 403, 'Onboarding may not take over an existing name');

    const tokenA = await machineToken(identityA.principalId, a);
    assert.equal(tokenA.status, 200, JSON.stringify(tokenA.body));
    const bearerA = String(tokenA.body['access_token']);
    const beat = await cp.request(
      'POST',
      `${group}/providers/Microsoft.HybridCompute/machines/web-a/heartbeat?${V}`,
      {
        token: bearerA,
        body: {
          agentVersion: '1.2',
          osName: 'linux',
          agentConfiguration: DEFAULT_AGENT_CONFIGURATION,
        },
      },
    );
    assert.equal(beat.status, 200, JSON.stringify(beat.body));
    assert.equal(beat.body['heartbeatIntervalSeconds'], 300);
    assert.equal(
      (beat.body['credential'] as { rotationRequested: boolean }).rotationRequested,
      false,
    );
    const shown = await cp.request(
      'GET',
      `${group}/providers/Microsoft.HybridCompute/machines/web-a?${V}`,
      { token: admin },
    );
    const properties = shown.body['properties'] as Record<string, unknown>;
    assert.equal(properties['status'], 'Connected');
    assert.equal(properties['agentVersion'], '1.2');
    assert.deepEqual(properties['agentConfiguration'], DEFAULT_AGENT_CONFIGURATION);

    const badBody = await cp.request(
      'POST',
      `${group}/providers/Microsoft.HybridCompute/machines/web-a/heartbeat?${V}`,
      {
        token: bearerA,
        body: {
          agentVersion: '1.2',
          agentConfiguration: { ...DEFAULT_AGENT_CONFIGURATION, configMode: 'x' },
        },
      },
    );
    assert.equal(badBody.status, 400);
    assert.match(JSON.stringify(badBody.body), /configMode/);

    const other = await cp.request(
      'POST',
      `${group}/providers/Microsoft.HybridCompute/machines/web-b/heartbeat?${V}`,
      {
        token: bearerA,
        body: { agentVersion: '1.2', agentConfiguration: DEFAULT_AGENT_CONFIGURATION },
      },
    );
    assert.equal(other.status, 403, 'a machine token cannot report another machine');
    // Accepted heartbeats stay out of the activity log; the invalid and the refused one are there.
    const since = new Date(cp.clock.now() - 3_600_000).toISOString();
    const until = new Date(cp.clock.now() + 60_000).toISOString();
    const filter = `eventTimestamp ge '${since}' and eventTimestamp le '${until}'`;
    const events = await cp.request(
      'GET',
      `/subscriptions/${cp.installation.subscriptionId}/providers/Microsoft.Insights/eventtypes/management/values?api-version=2015-04-01&$filter=${encodeURIComponent(filter)}`,
      { token: admin },
    );
    assert.equal(events.status, 200, JSON.stringify(events.body));
    const heartbeats = (
      events.body['value'] as {
        operationName: { value: string };
        status: { value: string };
        resourceId: string;
      }[]
    )
      .filter((e) => e.operationName.value.toLowerCase().endsWith('/heartbeat/action'))
      .map((e) => `${e.status.value} ${e.resourceId.split('/').pop() ?? ''}`);
    assert.deepEqual(heartbeats.sort(), ['Failed web-a', 'Failed web-b']);

    cp.clock.advance(16 * 60_000);
    const later = await cp.request(
      'GET',
      `${group}/providers/Microsoft.HybridCompute/machines/web-a?${V}`,
      { token: admin },
    );
    assert.equal((later.body['properties'] as Record<string, unknown>)['status'], 'Disconnected');

    const revoke = await cp.request(
      'POST',
      `${group}/providers/Microsoft.HybridCompute/machines/web-a/revokeCredential?${V}`,
      { token: admin },
    );
    assert.equal(revoke.status, 200, JSON.stringify(revoke.body));
    const refused = await machineToken(identityA.principalId, a);
    assert.equal(refused.status, 401);
    assert.match(JSON.stringify(refused.body), /revoked/);
    const stale = await cp.request(
      'POST',
      `${group}/providers/Microsoft.HybridCompute/machines/web-a/heartbeat?${V}`,
      {
        token: bearerA,
        body: { agentVersion: '1.2', agentConfiguration: DEFAULT_AGENT_CONFIGURATION },
      },
    );
    assert.equal(stale.status, 401, 'tokens of a revoked key are refused at once');
  });
});
