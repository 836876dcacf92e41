// "Who can run code as root here": role holders at or above a machine, groups expanded,
// crossed with the local settings its agent last reported; and the fleet view, paged.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  CONNECTED_MACHINE_ONBOARDING_ROLE_ID,
  CONNECTED_MACHINE_RESOURCE_ADMINISTRATOR_ROLE_ID,
  CONTRIBUTOR_ROLE_ID,
  GUEST_CONFIGURATION_RESOURCE_CONTRIBUTOR_ROLE_ID,
  OWNER_ROLE_ID,
  READER_ROLE_ID,
  USER_ACCESS_ADMINISTRATOR_ROLE_ID,
} from '../rbac/built-in-roles.js';
import { ArmTestApp, PUBLIC_URL, armTestBackends } from '../resources/testing/arm-test-app.js';
import { DEFAULT_AGENT_CONFIGURATION } from '@tether/protocol';

const V = 'api-version=2026-11-01';

interface Principal {
  principalId: string;
  principalType: string;
  displayName: string | null;
  viaGroup: { id: string; displayName: string | null } | null;
  doors: string[];
  grants: { roleName: string; assignmentId: string; assignedAt: string; actions: string[] }[];
  indirectAdministrator: boolean;
}

interface Report {
  machineId: string;
  localConfiguration: Record<string, unknown>;
  doors: { name: string; open: boolean; closedBy: string | null; openBecause: string | null }[];
  principals: Principal[];
  heldOffCount: number;
  nobody: boolean;
  summary: string;
}

function configuration(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...DEFAULT_AGENT_CONFIGURATION, ...overrides };
}

for (const backend of armTestBackends()) {
  void describe(`who can run code as root (${backend.name})`, () => {
    let t: ArmTestApp;
    let sub: string;
    let rg: string;
    let owner: string;

    before(async () => {
      t = await ArmTestApp.start({ backend, pageSize: 2 });
      sub = await t.addSubscription();
      rg = await t.addResourceGroup(sub, 'Web');
      owner = await t.addPrincipal('User', 'Olivia Owner');
      await t.assign(owner, OWNER_ROLE_ID, `/subscriptions/${sub}`);
    });
    after(() => t.close());

    /** A machine's agent row with the last heartbeat's report, as the heartbeat route stores it. */
    async function report(machine: string, agentConfiguration: unknown): Promise<void> {
      const stamp = new Date(t.clock.now()).toISOString();
      await t.db
        .insertInto('machine_agents')
        .values({
          machine_id: machine,
          principal_id: randomUUID(),
          credential_expires_at: new Date(t.clock.now() + 86_400_000).toISOString(),
          revoked_at: null,
          rotation_requested: 0,
          last_heartbeat_at: stamp,
          connected_since: stamp,
          report: JSON.stringify({ agentVersion: '1.0', agentConfiguration }),
          onboarded_at: stamp,
        })
        .execute();
    }

    async function rootAccess(machine: string, as = owner): Promise<Report> {
      const res = await t.inject(
        'GET',
        `${machine}/providers/Tether.Authorization/rootAccess?${V}`,
        {
          as,
        },
      );
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body as unknown as Report;
    }

    void it('lists every principal whose roles reach an open door, groups expanded, machine identities named', async () => {
      const machine = await t.addMachine(sub, 'Web', 'never-reported');
      const reader = await t.addPrincipal('User', 'Rita Reader');
      const onboarder = await t.addPrincipal('ServicePrincipal', 'onboarding-sp');
      const machineAdmin = await t.addPrincipal('User', 'Max Admin');
      const gcWriter = await t.addPrincipal('ServicePrincipal', 'gc-bot');
      const accessAdmin = await t.addPrincipal('User', 'Uma Access');
      const group = await t.addPrincipal('Group', 'ops');
      const member = await t.addPrincipal('User', 'Gina Groupie');
      await t.db
        .insertInto('group_members')
        .values({ group_id: group, member_id: member })
        .execute();
      t.authorizer.setGroupMembers(group, [member]);
      // Another machine's identity, granted Contributor here: code on that server reaches this one.
      const other = await t.addMachine(sub, 'Web', 'jump-host');
      const identity = randomUUID();
      await t.db
        .insertInto('principals')
        .values({
          id: identity,
          type: 'ServicePrincipal',
          display_name: 'jump-host',
          app_id: identity,
          user_principal_name: null,
          machine_id: other,
          description: null,
          reply_urls: null,
          created_at: new Date(t.clock.now()).toISOString(),
        })
        .execute();
      await t.assign(reader, READER_ROLE_ID, machine);
      await t.assign(onboarder, CONNECTED_MACHINE_ONBOARDING_ROLE_ID, rg);
      await t.assign(machineAdmin, CONNECTED_MACHINE_RESOURCE_ADMINISTRATOR_ROLE_ID, machine);
      await t.assign(gcWriter, GUEST_CONFIGURATION_RESOURCE_CONTRIBUTOR_ROLE_ID, rg);
      await t.assign(accessAdmin, USER_ACCESS_ADMINISTRATOR_ROLE_ID, rg);
      await t.assign(group, CONTRIBUTOR_ROLE_ID, machine);
      await t.assign(identity, CONTRIBUTOR_ROLE_ID, machine);

      const body = await rootAccess(machine);
      assert.equal(
        body.machineId,
        `/subscriptions/${sub}/resourceGroups/Web/providers/Microsoft.HybridCompute/machines/never-reported`,
      );
      assert.equal(body.localConfiguration['reported'], false);
      assert.deepEqual(
        body.doors.map((d) => [d.name, d.open]),
        [
          ['extensions', true],
          ['guestConfiguration', true],
          ['machineWrite', false],
        ],
      );
      assert.match(body.doors[0]?.openBecause ?? '', /never reported/);
      const of = (id: string, via: string | null = null): Principal | undefined =>
        body.principals.find((p) => p.principalId === id && (p.viaGroup?.id ?? null) === via);
      assert.equal(of(reader), undefined, 'a Reader runs nothing');
      assert.equal(of(onboarder), undefined, 'Onboarding may create machines, not reach them');
      assert.deepEqual(of(owner)?.doors, ['extensions', 'guestConfiguration']);
      assert.equal(of(owner)?.grants[0]?.roleName, 'Owner');
      assert.equal(of(owner)?.grants[0]?.assignedAt, `/subscriptions/${sub}`);
      assert.deepEqual(of(machineAdmin)?.doors, ['extensions']);
      // Overwriting the machine is no way in (closed by design), so it is not listed.
      assert.deepEqual(of(machineAdmin)?.grants[0]?.actions, [
        'Microsoft.HybridCompute/machines/extensions/write',
      ]);
      assert.deepEqual(of(gcWriter)?.doors, ['guestConfiguration']);
      // Assigning roles is a way to every door: it can grant itself one that opens them.
      assert.deepEqual(of(accessAdmin)?.doors, ['extensions', 'guestConfiguration']);
      assert.deepEqual(of(accessAdmin)?.grants[0]?.actions, [
        'Microsoft.Authorization/policyAssignments/write',
        'Microsoft.Authorization/roleAssignments/write',
      ]);
      assert.equal(of(group)?.principalType, 'Group');
      assert.deepEqual(of(member, group)?.viaGroup, { id: group, displayName: 'ops' });
      assert.equal(of(member, group)?.displayName, 'Gina Groupie');
      assert.equal(of(identity)?.principalType, 'MachineIdentity');
      assert.equal(of(identity)?.displayName, 'jump-host');
      assert.ok(body.principals.every((p) => p.indirectAdministrator));
      assert.equal(body.nobody, false);
      assert.match(
        body.summary,
        /^7 principals can run code as root on never-reported through Tether: /,
      );
      assert.match(body.summary, /has never reported its local settings/);
    });

    void it('an allowlist without script runners closes the extension door; those it held off are counted', async () => {
      const machine = await t.addMachine(sub, 'Web', 'ama-only');
      const machineAdmin = await t.addPrincipal('User', 'Mo Admin');
      await t.assign(machineAdmin, CONNECTED_MACHINE_RESOURCE_ADMINISTRATOR_ROLE_ID, machine);
      await report(
        machine,
        configuration({
          extensionsAllowList: [
            { publisher: 'Microsoft.Azure.Monitor', type: 'AzureMonitorLinuxAgent' },
          ],
        }),
      );
      const body = await rootAccess(machine);
      assert.equal(body.localConfiguration['reported'], true);
      assert.deepEqual(body.localConfiguration['allowlist'], [
        'Microsoft.Azure.Monitor/AzureMonitorLinuxAgent',
      ]);
      const extensions = body.doors.find((d) => d.name === 'extensions');
      assert.equal(extensions?.open, false);
      assert.match(
        extensions?.closedBy ?? '',
        /extensions\.allowlist admits no script-capable extension/,
      );
      assert.equal(
        body.principals.find((p) => p.principalId === machineAdmin),
        undefined,
      );
      assert.equal(body.heldOffCount, 1);
      assert.deepEqual(body.principals.find((p) => p.principalId === owner)?.doors, [
        'guestConfiguration',
      ]);
    });

    void it('says "nobody, through Tether" and which setting closes each door when all are closed', async () => {
      const machine = await t.addMachine(sub, 'Web', 'locked');
      await report(
        machine,
        configuration({ extensionsEnabled: 'false', guestConfigurationEnabled: 'false' }),
      );
      const body = await rootAccess(machine);
      assert.equal(body.nobody, true);
      assert.deepEqual(body.principals, []);
      assert.ok(body.heldOffCount >= 1, 'the subscription Owner is held off');
      assert.match(body.summary, /^Nobody, through Tether, can run code as root on locked/);
      assert.match(body.summary, /extensions: closed by extensions\.enabled is false/);
      assert.match(
        body.summary,
        /guest configuration: closed by guestconfiguration\.enabled is false/,
      );
      assert.match(body.summary, /machine overwrite: closed by Tether itself/);
    });

    void it('a report that cannot be read counts as never reported (fail closed)', async () => {
      const machine = await t.addMachine(sub, 'Web', 'garbled');
      await report(machine, { extensionsEnabled: 'false' });
      const body = await rootAccess(machine);
      assert.equal(body.localConfiguration['reported'], false);
      assert.ok(body.doors.find((d) => d.name === 'extensions')?.open);
    });

    void it('answers 404 for a machine that is not there and 403 without access', async () => {
      const missing = await t.inject(
        'GET',
        `${rg}/providers/Microsoft.HybridCompute/machines/nope/providers/Tether.Authorization/rootAccess?${V}`,
        { as: owner },
      );
      assert.equal(missing.status, 404);
      const stranger = await t.addPrincipal('User', 'Stan Stranger');
      const machine = await t.addMachine(sub, 'Web', 'private');
      const refused = await t.inject(
        'GET',
        `${machine}/providers/Tether.Authorization/rootAccess?${V}`,
        { as: stranger },
      );
      assert.equal(refused.status, 403);
    });

    void it('the fleet view pages through every machine with its open doors and principal count', async () => {
      const fleetSub = await t.addSubscription();
      await t.addResourceGroup(fleetSub, 'A');
      await t.addResourceGroup(fleetSub, 'B');
      const admin = await t.addPrincipal('User', 'Fleet Owner');
      await t.assign(admin, OWNER_ROLE_ID, `/subscriptions/${fleetSub}`);
      const open = await t.addMachine(fleetSub, 'A', 'open');
      const locked = await t.addMachine(fleetSub, 'A', 'locked');
      const monitor = await t.addMachine(fleetSub, 'B', 'monitor');
      await report(
        locked,
        configuration({ extensionsEnabled: 'false', guestConfigurationEnabled: 'false' }),
      );
      await report(
        monitor,
        configuration({
          configMode: 'monitor',
          guestConfigurationEnabled: 'false',
          extensionsAllowList: [
            { publisher: 'Microsoft.Azure.Monitor', type: 'AzureMonitorLinuxAgent' },
          ],
        }),
      );
      const contributor = await t.addPrincipal('User', 'Cora');
      await t.assign(contributor, CONTRIBUTOR_ROLE_ID, open);

      const rows: Record<string, unknown>[] = [];
      let url: string | undefined =
        `/subscriptions/${fleetSub}/providers/Tether.Authorization/rootAccess?${V}`;
      let pages = 0;
      while (url !== undefined) {
        const res = await t.inject('GET', url, { as: admin });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        rows.push(...(res.body['value'] as Record<string, unknown>[]));
        url = (res.body['nextLink'] as string | undefined)?.slice(PUBLIC_URL.length);
        pages++;
      }
      assert.equal(pages, 2, 'page size 2, three machines');
      const byName = new Map(rows.map((r) => [r['name'], r]));
      assert.deepEqual(byName.get('open'), {
        machineId: `/subscriptions/${fleetSub}/resourceGroups/A/providers/Microsoft.HybridCompute/machines/open`,
        name: 'open',
        resourceGroup: 'A',
        reported: false,
        openDoors: ['extensions', 'guestConfiguration'],
        principalCount: 2,
        nobody: false,
      });
      assert.deepEqual(byName.get('locked')?.['openDoors'], []);
      assert.equal(byName.get('locked')?.['nobody'], true);
      assert.equal(byName.get('monitor')?.['nobody'], true);
      assert.equal(byName.get('monitor')?.['resourceGroup'], 'B');

      const group = await t.inject(
        'GET',
        `/subscriptions/${fleetSub}/resourceGroups/b/providers/Tether.Authorization/rootAccess?${V}`,
        { as: admin },
      );
      assert.equal(group.status, 200);
      assert.deepEqual(
        (group.body['value'] as { name: string }[]).map((r) => r.name),
        ['monitor'],
      );
      const bad = await t.inject(
        'GET',
        `/subscriptions/${fleetSub}/providers/Tether.Authorization/rootAccess?${V}&$skiptoken=nonsense`,
        { as: admin },
      );
      assert.equal(bad.status, 400);
    });
  });
}
