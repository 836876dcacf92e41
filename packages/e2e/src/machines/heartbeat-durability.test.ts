// Nothing acknowledged is lost: machines heartbeat against the real `tether server` as fast as
// it answers, each heartbeat carrying a number of its own; the server is killed (SIGKILL) with
// heartbeats in flight and started again over the same data, and every machine's stored report
// is its last acknowledged heartbeat or a later one.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { startControlPlane, waitFor, type ControlPlane } from '../harness/index.js';
import { DEFAULT_AGENT_CONFIGURATION } from '@tether/protocol';

const V = 'api-version=2024-07-10';
const MACHINES = 16;
/** Heartbeats acknowledged per machine before the kill, at least. */
const BEFORE_KILL = 5;

interface Machine {
  name: string;
  token: string;
}

void describe('heartbeats across a killed server', () => {
  let plane: ControlPlane;
  let group = '';
  const machines: Machine[] = [];
  const path = (name: string) => `${group}/providers/Microsoft.HybridCompute/machines/${name}`;

  before(async () => {
    plane = await startControlPlane();
    group = `/subscriptions/${plane.subscriptionId}/resourceGroups/durable`;
    const created = await plane.admin.call('PUT', `${group}?api-version=2021-04-01`, {
      body: { location: 'westeurope' },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    for (let i = 0; i < MACHINES; i++) {
      const name = `durable-${i}`;
      const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const der = publicKey.export({ format: 'der', type: 'spki' });
      const onboarded = await plane.admin.call('PUT', `${path(name)}?${V}`, {
        body: {
          location: 'westeurope',
          identity: { type: 'SystemAssigned' },
          properties: { clientPublicKey: der.toString('base64'), osName: 'linux' },
        },
      });
      assert.equal(onboarded.status, 201, JSON.stringify(onboarded.body));
      const principalId = (onboarded.body['identity'] as { principalId: string }).principalId;
      const kid = createHash('sha256').update(der).digest('base64url');
      machines.push({ name, token: await machineToken(principalId, kid, privateKey) });
    }
  });
  after(() => plane.stop());

  async function machineToken(principalId: string, kid: string, key: KeyObject): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid })
      .setIssuer(principalId)
      .setSubject(principalId)
      .setAudience(`${plane.url}/${plane.tenantId}/oauth2/v2.0/token`)
      .setJti(randomUUID())
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + 600)
      .sign(key);
    const answer = await plane.admin.call('POST', `/${plane.tenantId}/oauth2/v2.0/token`, {
      token: null,
      form: {
        grant_type: 'client_credentials',
        client_id: principalId,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
        scope: `${plane.url}/.default`,
      },
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return String(answer.body['access_token']);
  }

  void it('keeps every heartbeat answered 200 before a kill -9', async () => {
    const acknowledged = new Map<string, number>();
    let killed = false;
    // Each machine heartbeats again as soon as it is answered, until the kill; those in flight
    // then are answered before it or fail with it.
    const loops = machines.map(async ({ name, token }) => {
      for (let sequence = 1; !killed; sequence++) {
        const answer = await plane.admin
          .call('POST', `${path(name)}/heartbeat?${V}`, {
            token,
            body: {
              agentVersion: '1.0',
              osName: 'linux',
              osVersion: String(sequence),
              agentConfiguration: DEFAULT_AGENT_CONFIGURATION,
            },
          })
          .catch(() => undefined);
        if (answer === undefined) {
          assert.ok(killed, `${name}: heartbeat ${sequence} failed before the kill`);
          return;
        }
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
        acknowledged.set(name, sequence);
      }
    });
    const running = Promise.all(loops);
    // A loop that fails before the kill fails the test at once.
    await Promise.race([
      running.then(() => assert.fail('the heartbeats stopped before the kill')),
      waitFor(
        'every machine to have heartbeats acknowledged',
        () =>
          machines.every((m) => (acknowledged.get(m.name) ?? 0) >= BEFORE_KILL) ? true : undefined,
        30_000,
      ),
    ]);
    killed = true;
    const crashed = plane.crash();
    await running;
    await crashed;

    for (const { name } of machines) {
      const shown = await plane.admin.call('GET', `${path(name)}?${V}`);
      assert.equal(shown.status, 200, JSON.stringify(shown.body));
      const stored = Number((shown.body['properties'] as { osVersion?: string }).osVersion);
      const answered = acknowledged.get(name) ?? 0;
      assert.ok(
        stored >= answered,
        `${name}: heartbeat ${answered} was acknowledged, the server kept ${stored}`,
      );
    }
  });
});
