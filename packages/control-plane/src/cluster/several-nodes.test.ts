// Several nodes of one control plane over one PostgreSQL database, in process: what one node
// changes, another honours at once (role assignments, deleted principals, failed sign-ins,
// goal-state long polls, guest configuration switches); a node that loses its notifications refuses requests until it has
// read everything back; one node at a time leads. Needs TETHER_TEST_POSTGRES_URL.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { GoalStateWaiters } from '../extensions/goal-state-waiters.js';
import { operationWaitersOf } from '../extensions/operation-waiters.js';
import { gcMachineState } from '../guest-configuration/gc-store.js';
import { GcSwitchWatch } from '../guest-configuration/gc-switch-watch.js';
import { READER_ROLE_ID } from '../rbac/built-in-roles.js';
import { TestControlPlane } from '../server/testing/test-control-plane.js';
import { testBackends } from '../store/testing/test-databases.js';
import { clusterChannelOf } from './cluster-channel.js';

const postgres = testBackends().find((b) => b.name === 'postgres');
const RG_API = 'api-version=2021-04-01';
const RA_API = 'api-version=2022-04-01';

/** Polls `probe` until it holds, for 5 s at most: notifications take a moment to arrive. */
async function eventually(what: string, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!(await probe())) {
    if (Date.now() > deadline) assert.fail(`${what}: not within 5 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

void describe(
  'several control-plane nodes over PostgreSQL',
  { skip: postgres === undefined },
  () => {
    let a: TestControlPlane;
    let b: TestControlPlane;
    let owner: string;
    before(async () => {
      [a, b] = (await TestControlPlane.startNodes(postgres!, 2)) as [
        TestControlPlane,
        TestControlPlane,
      ];
      owner = await a.ownerToken();
    });
    after(async () => {
      await b.close();
      await a.close();
    });

    const principalWithToken = async () => {
      const sp = await a.request('POST', '/v1.0/servicePrincipals', {
        token: owner,
        body: { displayName: `sp-${randomUUID()}` },
      });
      assert.equal(sp.status, 201, JSON.stringify(sp.body));
      const id = String(sp.body['id']);
      const password = await a.request('POST', `/v1.0/servicePrincipals/${id}/addPassword`, {
        token: owner,
        body: {},
      });
      const token = await a.token(String(sp.body['appId']), String(password.body['secretText']));
      return { id, appId: String(sp.body['appId']), token };
    };

    /** Reader at the tenant root for `principalId`, written through node A; returns its path. */
    const grantReader = async (principalId: string): Promise<string> => {
      const assignment = `/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?${RA_API}`;
      const put = await a.request('PUT', assignment, {
        token: owner,
        body: {
          properties: {
            roleDefinitionId: `/providers/Microsoft.Authorization/roleDefinitions/${READER_ROLE_ID}`,
            principalId,
          },
        },
      });
      assert.equal(put.status, 201, JSON.stringify(put.body));
      return assignment;
    };

    void it('a role assignment made through one node grants on another at once, and its deletion revokes', async () => {
      const sp = await principalWithToken();
      const groups = `/subscriptions/${a.installation.subscriptionId}/resourceGroups?${RG_API}`;
      assert.equal((await b.request('GET', groups, { token: sp.token })).status, 403);

      const assignment = await grantReader(sp.id);
      await eventually('node B grants the new assignment', async () => {
        return (await b.request('GET', groups, { token: sp.token })).status === 200;
      });

      assert.equal((await a.request('DELETE', assignment, { token: owner })).status, 200);
      await eventually('node B revokes the deleted assignment', async () => {
        return (await b.request('GET', groups, { token: sp.token })).status === 403;
      });
    });

    void it('a principal deleted through one node is refused by another, whose token cache knew it', async () => {
      const sp = await principalWithToken();
      // B verifies the token once and keeps it: without the notice it would for 30 s (and the
      // test clock never moves).
      const me = `/v1.0/servicePrincipals/${sp.id}`;
      assert.notEqual((await b.request('GET', me, { token: sp.token })).status, 401);
      assert.equal((await a.request('DELETE', me, { token: owner })).status, 204);
      await eventually('node B refuses the deleted principal', async () => {
        return (await b.request('GET', me, { token: sp.token })).status === 401;
      });
    });

    void it('failed sign-ins are counted across nodes', async () => {
      const sp = await principalWithToken();
      const attempt = (node: TestControlPlane) =>
        node.request('POST', `/${a.tenantId}/oauth2/v2.0/token`, {
          form: {
            grant_type: 'client_credentials',
            client_id: sp.appId,
            client_secret: 'wrong',
            scope: 'https://management.azure.com/.default',
          },
        });
      // Ten wrong secrets for one client from one address, all through node A…
      for (let i = 0; i < 10; i++) assert.equal((await attempt(a)).status, 401);
      // …and node B refuses the eleventh before checking it.
      await eventually('node B counts node A’s failures', async () => {
        const answer = await attempt(b);
        return answer.status === 429 && answer.headers['retry-after'] !== undefined;
      });
    });

    void it('a goal-state change through one node wakes the long poll held by another', async () => {
      const machineId = randomUUID();
      const request = new EventEmitter();
      const held = GoalStateWaiters.of(b.db).wait(machineId, 30_000, request);
      GoalStateWaiters.of(a.db).wake(machineId);
      const outcome = await Promise.race([
        held.done,
        new Promise((resolve) => setTimeout(() => resolve('not woken'), 5_000)),
      ]);
      assert.equal(outcome, 'changed');
    });

    void it('a guest configuration switch stored by one node is not skipped by another that remembered it', async () => {
      const machineId = randomUUID();
      const now = new Date(a.clock.now()).toISOString();
      // The machine's heartbeats say "off" through B, "on" through A, then "off" through B again.
      await GcSwitchWatch.of(b.db).observe(machineId, true, () => now);
      await GcSwitchWatch.of(a.db).observe(machineId, false, () => now);
      assert.equal((await gcMachineState(a.db, machineId)).switchedOff, false);
      await eventually('node B stores the switch again', async () => {
        await GcSwitchWatch.of(b.db).observe(machineId, true, () => now);
        return (await gcMachineState(a.db, machineId)).switchedOff;
      });
    });

    void it('an extension operation reported through one node answers its status read held by another', async () => {
      const operationId = randomUUID();
      const held = operationWaitersOf(b.db).wait(operationId, 30_000, new EventEmitter());
      operationWaitersOf(a.db).wake(operationId);
      const outcome = await Promise.race([
        held.done,
        new Promise((resolve) => setTimeout(() => resolve('not woken'), 5_000)),
      ]);
      assert.equal(outcome, 'changed');
    });

    void it('a node that loses its notifications answers 503 until it has read everything back', async () => {
      const sp = await principalWithToken();
      const groups = `/subscriptions/${a.installation.subscriptionId}/resourceGroups?${RG_API}`;
      const admin = new pg.Client({ connectionString: process.env['TETHER_TEST_POSTGRES_URL'] });
      await admin.connect();
      try {
        // Node B's listening connection is cut, and while B is deaf node A grants a role.
        await admin.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'tether-test-node-1'`,
        );
        await eventually('node B refuses while deaf', async () => {
          const answer = await b.request('GET', groups, { token: sp.token });
          return answer.status === 503 && answer.headers['retry-after'] !== undefined;
        });
        assert.equal((await b.request('GET', '/readyz')).status, 503);
        await grantReader(sp.id);
        // Back, B has read the grant it never heard of.
        await eventually('node B serves again, with the grant', async () => {
          return (await b.request('GET', groups, { token: sp.token })).status === 200;
        });
        assert.equal((await b.request('GET', '/readyz')).status, 200);
      } finally {
        await admin.end();
      }
    });

    void it('one node leads at a time, and another takes over when it goes', async () => {
      const channels = [clusterChannelOf(a.db), clusterChannelOf(b.db)];
      await eventually('one node leads', () =>
        Promise.resolve(channels.filter((c) => c.leader).length === 1),
      );
      const leader = channels.find((c) => c.leader)!;
      const other = channels.find((c) => !c.leader)!;
      await leader.close();
      await eventually('the other node leads', () => Promise.resolve(other.leader));
    });
  },
);
