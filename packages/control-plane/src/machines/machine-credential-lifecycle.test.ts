// A machine's credential over time with a ManualClock: rotation keeps the old key only for its
// grace, re-onboarding by an administrator replaces the key, and the token endpoint refuses an
// Expired machine by the same configured timings the machine routes show.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestControlPlane, TEST_PUBLIC_URL } from '../server/testing/test-control-plane.js';
import { TestMachineAgent } from './testing/test-machine-agent.js';
import { DEFAULT_AGENT_CONFIGURATION } from '@tether/protocol';

const V = 'api-version=2024-07-10';
const MINUTE = 60_000;

async function setUp(cp: TestControlPlane) {
  const admin = await cp.ownerToken();
  const group = `/subscriptions/${cp.installation.subscriptionId}/resourceGroups/fleet`;
  const rg = await cp.request('PUT', `${group}?api-version=2021-04-01`, {
    token: admin,
    body: { location: 'westeurope' },
  });
  assert.ok(rg.status < 300, JSON.stringify(rg.body));
  const machine = (name: string) => `${group}/providers/Microsoft.HybridCompute/machines/${name}`;

  const onboard = async (name: string, agent: TestMachineAgent, token = admin) => {
    const put = await cp.request('PUT', `${machine(name)}?${V}`, {
      token,
      body: agent.onboardingBody(),
    });
    return put;
  };
  const principalOf = (body: Record<string, unknown>) =>
    (body['identity'] as { principalId: string }).principalId;
  const tokenFor = async (principalId: string, agent: TestMachineAgent) =>
    cp.request('POST', `/${cp.tenantId}/oauth2/v2.0/token`, {
      form: await agent.tokenForm(
        principalId,
        `${TEST_PUBLIC_URL}/${cp.tenantId}/oauth2/v2.0/token`,
        `${TEST_PUBLIC_URL}/.default`,
        cp.clock.now(),
      ),
    });
  const bearerFor = async (principalId: string, agent: TestMachineAgent) => {
    const answer = await tokenFor(principalId, agent);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return String(answer.body['access_token']);
  };
  const heartbeat = (name: string, token: string) =>
    cp.request('POST', `${machine(name)}/heartbeat?${V}`, {
      token,
      body: {
        agentVersion: '1.0',
        osName: 'linux',
        agentConfiguration: DEFAULT_AGENT_CONFIGURATION,
      },
    });
  return { admin, machine, onboard, principalOf, tokenFor, bearerFor, heartbeat };
}

void describe('machine credential lifecycle (ManualClock)', () => {
  let cp: TestControlPlane;
  let t: Awaited<ReturnType<typeof setUp>>;

  before(async () => {
    cp = await TestControlPlane.start();
    t = await setUp(cp);
  });
  after(() => cp.close());

  void it('keeps the replaced key for the 10-minute grace only, the new one for its lifetime', async () => {
    const oldKey = TestMachineAgent.create();
    const put = await t.onboard('rotating', oldKey);
    assert.equal(put.status, 201, JSON.stringify(put.body));
    const principalId = t.principalOf(put.body);
    const oldBearer = await t.bearerFor(principalId, oldKey);

    const asked = await cp.request(
      'POST',
      `${t.machine('rotating')}/requestCredentialRotation?${V}`,
      { token: t.admin },
    );
    assert.equal(asked.status, 202, JSON.stringify(asked.body));
    const beat = await t.heartbeat('rotating', oldBearer);
    assert.equal(beat.status, 200, JSON.stringify(beat.body));
    assert.deepEqual(
      (beat.body['credential'] as Record<string, unknown>)['rotationRequested'],
      true,
    );

    const newKey = TestMachineAgent.create();
    const rotated = await cp.request('POST', `${t.machine('rotating')}/rotateCredential?${V}`, {
      token: oldBearer,
      body: { clientPublicKey: newKey.spki },
    });
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    assert.equal(
      rotated.body['expiresOn'],
      new Date(cp.clock.now() + 90 * 24 * 60 * MINUTE).toISOString(),
    );
    const again = await cp.request('POST', `${t.machine('rotating')}/rotateCredential?${V}`, {
      token: oldBearer,
      body: { clientPublicKey: newKey.spki },
    });
    assert.equal(again.status, 409, 'a key already registered is not rotated to again');

    const after = await t.heartbeat('rotating', await t.bearerFor(principalId, newKey));
    assert.equal((after.body['credential'] as Record<string, unknown>)['rotationRequested'], false);

    cp.clock.advance(10 * MINUTE - 1000);
    assert.equal((await t.tokenFor(principalId, oldKey)).status, 200, 'within the grace');
    cp.clock.advance(1000);
    const late = await t.tokenFor(principalId, oldKey);
    assert.equal(late.status, 401, JSON.stringify(late.body));
    assert.equal(late.body['error'], 'invalid_client');
    assert.match(String(late.body['error_description']), /expired at/);
    assert.equal((await t.tokenFor(principalId, newKey)).status, 200, 'the new key lives on');
  });

  void it('lets an administrator re-onboard a name with a new key, refusing the old key', async () => {
    const first = TestMachineAgent.create();
    const put = await t.onboard('reborn', first);
    assert.equal(put.status, 201, JSON.stringify(put.body));
    const firstPrincipal = t.principalOf(put.body);
    await t.bearerFor(firstPrincipal, first);

    const second = TestMachineAgent.create();
    const again = await t.onboard('reborn', second);
    assert.equal(again.status, 200, JSON.stringify(again.body));
    const secondPrincipal = t.principalOf(again.body);
    assert.notEqual(secondPrincipal, firstPrincipal, 'a new identity for the new key');
    const old = await t.tokenFor(firstPrincipal, first);
    assert.equal(old.status, 400, JSON.stringify(old.body));
    assert.equal(old.body['error'], 'unauthorized_client', 'the old identity is gone');
    const oldUnderNewIdentity = await t.tokenFor(secondPrincipal, first);
    assert.equal(oldUnderNewIdentity.status, 401, JSON.stringify(oldUnderNewIdentity.body));
    const beat = await t.heartbeat('reborn', await t.bearerFor(secondPrincipal, second));
    assert.equal(beat.status, 200, JSON.stringify(beat.body));
  });
});

void describe('machine timings reach the token endpoint', () => {
  let cp: TestControlPlane;
  let t: Awaited<ReturnType<typeof setUp>>;

  before(async () => {
    cp = await TestControlPlane.start(undefined, {
      machineTimings: {
        heartbeatIntervalMs: MINUTE,
        disconnectAfterMs: 3 * MINUTE,
        expireAfterMs: 60 * MINUTE,
      },
    });
    t = await setUp(cp);
  });
  after(() => cp.close());

  void it('shows Disconnected and then Expired, and refuses tokens once Expired', async () => {
    const agent = TestMachineAgent.create();
    const put = await t.onboard('short', agent);
    assert.equal(put.status, 201, JSON.stringify(put.body));
    const principalId = t.principalOf(put.body);
    const beat = await t.heartbeat('short', await t.bearerFor(principalId, agent));
    assert.equal(beat.body['heartbeatIntervalSeconds'], 60);
    const status = async () => {
      const shown = await cp.request('GET', `${t.machine('short')}?${V}`, { token: t.admin });
      return (shown.body['properties'] as Record<string, unknown>)['status'];
    };
    assert.equal(await status(), 'Connected');
    cp.clock.advance(3 * MINUTE);
    assert.equal(await status(), 'Disconnected');
    assert.equal((await t.tokenFor(principalId, agent)).status, 200, 'Disconnected still signs in');
    cp.clock.advance(57 * MINUTE);
    assert.equal(await status(), 'Expired');
    const refused = await t.tokenFor(principalId, agent);
    assert.equal(refused.status, 401, JSON.stringify(refused.body));
    assert.match(String(refused.body['error_description']), /Expired since/);
  });
});
