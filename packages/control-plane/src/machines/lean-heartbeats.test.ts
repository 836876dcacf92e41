// The lean heartbeat path answers exactly as the heartbeat route does: each request is sent once
// through the server's own dispatch (lean path first) and once to the router alone, and the two
// answers and activity-log events must match — refusals, bad bodies and all — on every backend.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { READER_ROLE_ID } from '../rbac/built-in-roles.js';
import { TestControlPlane, type Answer } from '../server/testing/test-control-plane.js';
import { testBackends } from '../store/testing/test-databases.js';
import { onboardMachine } from './testing/machine-agents.js';
import { DEFAULT_AGENT_CONFIGURATION } from '@tether/protocol';

const V = 'api-version=2024-07-10';
const REPORT = {
  agentVersion: '1.2',
  osName: 'linux',
  agentConfiguration: DEFAULT_AGENT_CONFIGURATION,
};

for (const backend of testBackends()) {
  void describe(`lean heartbeat path (${backend.name})`, () => {
    let cp: TestControlPlane;
    let owner: string;
    let group: string;
    const machines: Record<string, { token: string; principalId: string }> = {};

    const beatUrl = (name: string): string =>
      `${group}/providers/Microsoft.HybridCompute/machines/${name}/heartbeat?${V}`;

    async function onboard(name: string): Promise<void> {
      machines[name] = await onboardMachine(cp, group, name, owner);
    }

    /** A principal holding only Reader on the group, with a token already verified once. */
    async function readerToken(): Promise<string> {
      const sp = await cp.request('POST', '/v1.0/servicePrincipals', {
        token: owner,
        body: { displayName: `reader-${randomUUID()}` },
      });
      assert.equal(sp.status, 201, JSON.stringify(sp.body));
      const password = await cp.request(
        'POST',
        `/v1.0/servicePrincipals/${String(sp.body['id'])}/addPassword`,
        { token: owner, body: {} },
      );
      const grant = await cp.request(
        'PUT',
        `${group}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?api-version=2022-04-01`,
        {
          token: owner,
          body: {
            properties: {
              roleDefinitionId: `/providers/Microsoft.Authorization/roleDefinitions/${READER_ROLE_ID}`,
              principalId: String(sp.body['id']),
            },
          },
        },
      );
      assert.equal(grant.status, 201, JSON.stringify(grant.body));
      const token = await cp.token(String(sp.body['appId']), String(password.body['secretText']));
      assert.equal(
        (await cp.request('GET', `${group}?api-version=2021-04-01`, { token })).status,
        200,
      );
      return token;
    }

    interface Sent {
      token?: string;
      payload?: string;
      contentType?: string;
    }

    /**
     * The same request through the server's dispatch and through the router alone; returns both
     * answers with whether the lean path took the first, and the activity-log events of each.
     */
    async function both(name: string, sent: Sent) {
      const send = async (lean: boolean) => {
        const correlationId = randomUUID();
        const headers: Record<string, string> = {
          'x-ms-correlation-request-id': correlationId,
          'content-type': sent.contentType ?? 'application/json',
        };
        if (sent.token !== undefined) headers['authorization'] = `Bearer ${sent.token}`;
        const takenBefore = cp.controlPlane.leanHeartbeats.taken;
        let answer: Answer;
        if (lean) {
          answer = await cp.request('POST', beatUrl(name), {
            headers,
            ...(sent.payload === undefined ? {} : { raw: sent.payload }),
          });
        } else {
          const response = await cp.app.inject({
            method: 'POST',
            url: beatUrl(name),
            headers,
            ...(sent.payload === undefined ? {} : { payload: sent.payload }),
          });
          answer = {
            status: response.statusCode,
            body:
              response.body === '' ? {} : (JSON.parse(response.body) as Record<string, unknown>),
            headers: response.headers,
          };
        }
        const events = await cp.db
          .selectFrom('activity_log')
          .select(['status', 'sub_status', 'operation_name', 'resource_id', 'caller'])
          .where('correlation_id', '=', correlationId)
          .execute();
        return {
          answer,
          taken: cp.controlPlane.leanHeartbeats.taken > takenBefore,
          events,
          correlationEchoed: answer.headers['x-ms-correlation-request-id'] === correlationId,
        };
      };
      const lean = await send(true);
      const router = await send(false);
      assert.equal(router.taken, false);
      assert.equal(lean.answer.status, router.answer.status, JSON.stringify(lean.answer.body));
      assert.deepEqual(lean.answer.body, router.answer.body);
      assert.equal(lean.answer.headers['content-type'], router.answer.headers['content-type']);
      assert.equal(lean.answer.headers['retry-after'], router.answer.headers['retry-after']);
      assert.equal(
        lean.answer.headers['www-authenticate'],
        router.answer.headers['www-authenticate'],
      );
      assert.ok(lean.correlationEchoed && router.correlationEchoed);
      assert.equal(typeof lean.answer.headers['x-ms-request-id'], 'string');
      assert.deepEqual(lean.events, router.events);
      return lean;
    }

    before(async () => {
      cp = await TestControlPlane.start(backend);
      owner = await cp.ownerToken();
      group = `/subscriptions/${cp.installation.subscriptionId}/resourceGroups/fleet`;
      const rg = await cp.request('PUT', `${group}?api-version=2021-04-01`, {
        token: owner,
        body: { location: 'westeurope' },
      });
      assert.ok(rg.status < 300, JSON.stringify(rg.body));
      await onboard('web-a');
      await onboard('web-b');
      // Each token's first call verifies it; from then on its heartbeats take the lean path.
      for (const name of ['web-a', 'web-b']) {
        const first = await cp.request('POST', beatUrl(name), {
          token: machines[name]?.token ?? '',
          body: REPORT,
        });
        assert.equal(first.status, 200, JSON.stringify(first.body));
      }
    });
    after(() => cp.close());

    void it("answers a machine's own heartbeat, and the machine shows it at once", async () => {
      const a = machines['web-a']!;
      cp.clock.advance(60_000);
      const report = { ...REPORT, agentVersion: '1.3' };
      const beat = await both('web-a', { token: a.token, payload: JSON.stringify(report) });
      assert.equal(beat.taken, true);
      assert.equal(beat.answer.status, 200);
      assert.equal(beat.answer.body['heartbeatIntervalSeconds'], 300);
      assert.deepEqual(beat.events, [], 'accepted heartbeats stay out of the activity log');
      const shown = await cp.request(
        'GET',
        `${group}/providers/Microsoft.HybridCompute/machines/web-a?${V}`,
        { token: owner },
      );
      const properties = shown.body['properties'] as Record<string, unknown>;
      assert.equal(properties['status'], 'Connected');
      assert.equal(properties['agentVersion'], '1.3');
      const row = await cp.db
        .selectFrom('machine_agents')
        .select('last_heartbeat_at')
        .where('principal_id', '=', a.principalId)
        .executeTakeFirstOrThrow();
      assert.equal(row.last_heartbeat_at, new Date(cp.clock.now()).toISOString());
    });

    void it("refuses another machine's token with 403, logged, as the route does", async () => {
      const refused = await both('web-b', {
        token: machines['web-a']!.token,
        payload: JSON.stringify(REPORT),
      });
      assert.equal(refused.answer.status, 403);
      assert.equal((refused.answer.body['error'] as { code: string }).code, 'AuthorizationFailed');
      assert.equal(refused.events.length, 1);
      assert.equal(refused.taken, false);
    });

    void it('refuses no token with 401 and the Bearer challenge', async () => {
      const refused = await both('web-a', { payload: JSON.stringify(REPORT) });
      assert.equal(refused.answer.status, 401);
      assert.match(String(refused.answer.headers['www-authenticate']), /^Bearer /);
    });

    void it('refuses a principal holding only Reader with 403', async () => {
      const refused = await both('web-a', {
        token: await readerToken(),
        payload: JSON.stringify(REPORT),
      });
      assert.equal(refused.answer.status, 403);
      assert.equal(refused.events.length, 1);
    });

    void it('refuses bad bodies with 400 in the ARM shape, logged as failures alike', async () => {
      const token = machines['web-a']!.token;
      const cases: [string, string, string | undefined][] = [
        ['not JSON', '{"agentVersion": ', undefined],
        [
          'a bad setting',
          JSON.stringify({
            ...REPORT,
            agentConfiguration: { ...DEFAULT_AGENT_CONFIGURATION, configMode: 'x' },
          }),
          'agentConfiguration.configMode',
        ],
        ['an unknown field', JSON.stringify({ ...REPORT, colour: 'blue' }), 'colour'],
        [
          'no agentVersion',
          JSON.stringify({ agentConfiguration: DEFAULT_AGENT_CONFIGURATION }),
          'agentVersion',
        ],
        ['an array', '[1]', 'body'],
        ['prototype poisoning', '{"__proto__": {"x": 1}}', undefined],
        ['nesting too deep', `${'{"a":'.repeat(70)}1${'}'.repeat(70)}`, 'a'],
        [
          'a bad local change journal',
          JSON.stringify({ ...REPORT, localChangesJournal: 'X' }),
          'localChangesJournal',
        ],
      ];
      for (const [what, payload, target] of cases) {
        const refused = await both('web-a', { token, payload });
        assert.equal(refused.taken, true, what);
        assert.equal(refused.answer.status, 400, what);
        const error = refused.answer.body['error'] as { code: string; target?: string };
        assert.equal(error.code, 'InvalidRequestContent', what);
        if (target !== undefined) assert.equal(error.target, target, what);
      }
    });

    void it('leaves an oversized body to the router, which refuses it before reading it', async () => {
      const refused = await both('web-a', {
        token: machines['web-a']!.token,
        payload: JSON.stringify({ ...REPORT, osName: 'x'.repeat(1024 * 1024) }),
      });
      assert.equal(refused.taken, false);
      assert.equal(refused.answer.status, 413);
    });

    void it('refuses local changes from anyone but the machine itself, logged', async () => {
      const refused = await both('web-a', {
        token: owner,
        payload: JSON.stringify({
          ...REPORT,
          localChangesJournal: randomUUID(),
          localChanges: [
            {
              sequence: 1,
              time: new Date(cp.clock.now()).toISOString(),
              uid: 0,
              userName: 'root',
              property: 'proxy.url',
              oldValue: '',
              newValue: 'http://proxy:3128',
            },
          ],
        }),
      });
      assert.equal(refused.answer.status, 403);
      assert.deepEqual(
        refused.events.map((event) => [event.status, event.sub_status]),
        [['Failed', 'AuthorizationFailed']],
      );
    });

    void it('refuses a revoked credential and an expired token with 401', async () => {
      const b = machines['web-b']!;
      const revoke = await cp.request(
        'POST',
        `${group}/providers/Microsoft.HybridCompute/machines/web-b/revokeCredential?${V}`,
        { token: owner },
      );
      assert.equal(revoke.status, 200, JSON.stringify(revoke.body));
      const revoked = await both('web-b', { token: b.token, payload: JSON.stringify(REPORT) });
      assert.equal(revoked.answer.status, 401);
      assert.equal(revoked.taken, false);

      cp.clock.advance(2 * 3_600_000);
      const expired = await both('web-a', {
        token: machines['web-a']!.token,
        payload: JSON.stringify(REPORT),
      });
      assert.equal(expired.answer.status, 401);
      assert.equal(
        (expired.answer.body['error'] as { code: string }).code,
        'ExpiredAuthenticationToken',
      );
    });
  });
}
