// Local changes reported with a heartbeat: each becomes one activity-log event for the machine
// with the local user, property and values; retries add nothing; a bad entry stores nothing;
// only the machine's own identity reports them; who may read them is unchanged.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ActivityEventData } from '../activity/sql-activity-log.js';
import {
  OWNER_ROLE_ID,
  READER_ROLE_ID,
  TETHER_CONNECTED_MACHINE_ROLE_ID,
} from '../rbac/built-in-roles.js';
import { ArmTestApp, armTestBackends } from '../resources/testing/arm-test-app.js';
import { machineAgentRoutes } from './machine-agent-routes.js';
import { LOCAL_CONFIGURATION_WRITE } from './record-local-changes.js';
import { DEFAULT_AGENT_CONFIGURATION } from '@tether/protocol';

const V = 'api-version=2024-07-10';

const change = (sequence: number, newValue = `[Contoso.Ext/Type${sequence}]`) => ({
  sequence,
  time: '2026-12-02T09:00:00.000Z',
  uid: 1000,
  userName: 'alice',
  sudoUid: 1000,
  property: 'extensions.allowlist',
  oldValue: '[]',
  newValue,
});

for (const backend of armTestBackends()) {
  void describe(`local changes in the heartbeat (${backend.name})`, () => {
    let t: ArmTestApp;
    let sub: string;
    let machineId: string;
    let machinePrincipal: string;
    let owner: string;

    const machinePath = () =>
      `/subscriptions/${sub}/resourceGroups/servers/providers/Microsoft.HybridCompute/machines/web-01`;
    const heartbeat = (
      localChanges: unknown,
      as = machinePrincipal,
      localChangesJournal?: unknown,
    ) =>
      t.inject('POST', `${machinePath()}/heartbeat?${V}`, {
        as,
        body: {
          agentVersion: '1.0',
          osName: 'linux',
          agentConfiguration: DEFAULT_AGENT_CONFIGURATION,
          localChanges,
          ...(localChangesJournal === undefined ? {} : { localChangesJournal }),
        },
      });
    const events = async (resourceUri = machineId, as = owner): Promise<ActivityEventData[]> => {
      const filter = `eventTimestamp ge '2000-01-01T00:00:00Z' and resourceUri eq '${resourceUri}'`;
      const answer = await t.inject(
        'GET',
        `/subscriptions/${sub}/providers/Microsoft.Insights/eventtypes/management/values?api-version=2015-04-01&$filter=${encodeURIComponent(filter)}`,
        { as },
      );
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      return (answer.body['value'] as ActivityEventData[]).filter(
        (e) => e.operationName.value === LOCAL_CONFIGURATION_WRITE,
      );
    };
    const lastHeartbeat = async (): Promise<string | null> =>
      (
        await t.db
          .selectFrom('machine_agents')
          .select('last_heartbeat_at')
          .where('machine_id', '=', machineId.toLowerCase())
          .executeTakeFirstOrThrow()
      ).last_heartbeat_at;

    before(async () => {
      t = await ArmTestApp.start({ backend, extraRoutes: machineAgentRoutes });
      sub = await t.addSubscription();
      await t.addResourceGroup(sub, 'servers');
      await t.addResourceGroup(sub, 'other');
      machineId = await t.addMachine(sub, 'servers', 'web-01');
      machinePrincipal = await t.addPrincipal('ServicePrincipal', 'web-01');
      const stamp = new Date(t.clock.now()).toISOString();
      await t.db
        .insertInto('machine_agents')
        .values({
          machine_id: machineId.toLowerCase(),
          principal_id: machinePrincipal,
          credential_expires_at: new Date(t.clock.now() + 86_400_000).toISOString(),
          revoked_at: null,
          rotation_requested: 0,
          last_heartbeat_at: null,
          connected_since: null,
          report: null,
          onboarded_at: stamp,
        })
        .execute();
      await t.assign(machinePrincipal, TETHER_CONNECTED_MACHINE_ROLE_ID, machineId);
      owner = await t.addPrincipal('User', 'olivia');
      await t.assign(owner, OWNER_ROLE_ID, `/subscriptions/${sub}`);
    });
    after(() => t.close());

    void it('a bad entry is refused with 400 naming it, and nothing of the heartbeat is stored', async () => {
      const answer = await heartbeat([change(1), { ...change(2), uid: -1 }]);
      assert.equal(answer.status, 400, JSON.stringify(answer.body));
      const error = answer.body['error'] as { code: string; target: string; message: string };
      assert.equal(error.code, 'InvalidRequestContent');
      assert.equal(error.target, 'localChanges[1].uid');
      assert.match(error.message, /\[1\]\.uid must be a whole number from 0/);
      assert.deepEqual(await events(), []);
      assert.equal(await lastHeartbeat(), null, 'the heartbeat itself was not stored either');
    });

    void it('each change becomes an event for the machine with the local user and values', async () => {
      const answer = await heartbeat([change(1), change(2, '[]')]);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body['localChangesAcknowledged'], 2);
      const stored = await events();
      assert.deepEqual(
        stored
          .map((e) => e.properties)
          .sort((a, b) => Number(a['sequence']) - Number(b['sequence'])),
        [
          {
            localUserId: 1000,
            localUserName: 'alice',
            sudoUserId: 1000,
            property: 'extensions.allowlist',
            oldValue: '[]',
            newValue: '[Contoso.Ext/Type1]',
            localTime: '2026-12-02T09:00:00.000Z',
            sequence: 1,
          },
          {
            localUserId: 1000,
            localUserName: 'alice',
            sudoUserId: 1000,
            property: 'extensions.allowlist',
            oldValue: '[]',
            newValue: '[]',
            localTime: '2026-12-02T09:00:00.000Z',
            sequence: 2,
          },
        ],
      );
      for (const event of stored) {
        assert.equal(event.resourceId, machineId.toLowerCase());
        assert.equal(event.caller, 'web-01', 'reported by the machine identity');
        assert.equal(event.status.value, 'Succeeded');
        assert.equal(event.eventTimestamp, new Date(t.clock.now()).toISOString());
      }
    });

    void it('a retried heartbeat, or one resent after a crash before the acknowledgement, stores each change once', async () => {
      const again = await heartbeat([change(1), change(2, '[]')]);
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.equal(again.body['localChangesAcknowledged'], 2);
      // The agent lost the acknowledgement of 1-2 and sends them with its new change 3.
      const resent = await heartbeat([change(1), change(2, '[]'), change(3)]);
      assert.equal(resent.body['localChangesAcknowledged'], 3);
      const concurrent = await Promise.all([
        heartbeat([change(4)]),
        heartbeat([change(4)]),
        heartbeat([change(4), change(5)]),
      ]);
      assert.deepEqual(
        concurrent.map((a) => a.status),
        [200, 200, 200],
      );
      assert.deepEqual(
        (await events()).map((e) => e.properties['sequence']).sort(),
        [1, 2, 3, 4, 5],
      );
    });

    void it('a heartbeat without local changes answers no acknowledgement', async () => {
      const answer = await heartbeat(undefined);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal('localChangesAcknowledged' in answer.body, false);
    });

    void it("only the machine's own identity reports local changes", async () => {
      const answer = await heartbeat([change(6)], owner);
      assert.equal(answer.status, 403, JSON.stringify(answer.body));
      assert.match(
        String((answer.body['error'] as { message: string }).message),
        /Only the machine's own identity reports the changes made on it/,
      );
      assert.equal((await events()).length, 5);
    });

    void it('who may read the events is unchanged: a Reader of the group, not of another', async () => {
      const groupReader = await t.addPrincipal('User', 'gina');
      await t.assign(groupReader, READER_ROLE_ID, `/subscriptions/${sub}/resourceGroups/servers`);
      const otherReader = await t.addPrincipal('User', 'oscar');
      await t.assign(otherReader, READER_ROLE_ID, `/subscriptions/${sub}/resourceGroups/other`);
      assert.equal((await events(machineId, groupReader)).length, 5);
      const refused = await t.inject(
        'GET',
        `/subscriptions/${sub}/providers/Microsoft.Insights/eventtypes/management/values?api-version=2015-04-01&$filter=${encodeURIComponent(`eventTimestamp ge '2000-01-01T00:00:00Z' and resourceUri eq '${machineId}'`)}`,
        { as: otherReader },
      );
      assert.equal(refused.status, 403, JSON.stringify(refused.body));
    });

    void it('a journal created afresh numbers from 1 again: its id tells its changes from those stored', async () => {
      const fresh = '2f4c8a1e-6b3d-4e7f-9a0c-1d2e3f4a5b6c';
      // Stored up to 5 so far; the machine's journal was deleted and started again at 1.
      const answer = await heartbeat([change(1, '[New.Journal/One]')], machinePrincipal, fresh);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body['localChangesAcknowledged'], 1);
      const stored = (await events()).filter((e) => e.properties['journalId'] === fresh);
      assert.deepEqual(
        stored.map((e) => [e.properties['sequence'], e.properties['newValue']]),
        [[1, '[New.Journal/One]']],
      );
      // Retried: stored once; the next change of the same journal follows on.
      await heartbeat([change(1, '[New.Journal/One]'), change(2)], machinePrincipal, fresh);
      assert.equal((await events()).filter((e) => e.properties['journalId'] === fresh).length, 2);
      assert.equal((await events()).length, 7, 'the first journal’s five events stay');
    });

    void it('a journal id that is not a UUID is refused with 400, storing nothing', async () => {
      const answer = await heartbeat([change(9)], machinePrincipal, 'not-a-journal');
      assert.equal(answer.status, 400, JSON.stringify(answer.body));
      const error = answer.body['error'] as { code: string; target: string; message: string };
      assert.equal(error.code, 'InvalidRequestContent');
      assert.equal(error.target, 'localChangesJournal');
      assert.match(error.message, /localChangesJournal is "not-a-journal", not a journal id/);
      assert.equal((await events()).length, 7);
    });
  });
}
