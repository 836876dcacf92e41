// "Who has access" (S1, S2) and the caller's own permissions: every principal that reaches a
// scope, where it was granted, through which group, and whether it is an indirect administrator.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CONNECTED_MACHINE_ONBOARDING_ROLE_ID,
  CONNECTED_MACHINE_RESOURCE_ADMINISTRATOR_ROLE_ID,
  CONTRIBUTOR_ROLE_ID,
  GUEST_CONFIGURATION_RESOURCE_CONTRIBUTOR_ROLE_ID,
  OWNER_ROLE_ID,
  READER_ROLE_ID,
  RESOURCE_POLICY_CONTRIBUTOR_ROLE_ID,
} from '../rbac/built-in-roles.js';
import { ArmTestApp, armTestBackends } from '../resources/testing/arm-test-app.js';

interface Entry {
  principalId: string;
  principalType: string;
  displayName: string | null;
  roleName: string;
  roleDefinitionId: string;
  assignmentId: string;
  assignedAt: string;
  inherited: boolean;
  viaGroup: string | null;
  indirectAdministrator: boolean;
}

for (const backend of armTestBackends()) {
  void describe(`who has access (${backend.name})`, () => {
    let t: ArmTestApp;
    let sub: string;
    let rg: string;
    let machine: string;
    let owner: string;

    before(async () => {
      t = await ArmTestApp.start({ backend });
      sub = await t.addSubscription();
      rg = await t.addResourceGroup(sub, 'rg1');
      machine = await t.addMachine(sub, 'rg1', 'web-01');
      owner = await t.addPrincipal('User', 'Olivia Owner');
      await t.assign(owner, OWNER_ROLE_ID, `/subscriptions/${sub}`);
    });
    after(() => t.close());

    void it('lists every principal reaching a machine and flags indirect administrators (S2)', async () => {
      const reader = await t.addPrincipal('User', 'Rita Reader');
      const contributor = await t.addPrincipal('ServicePrincipal', 'deploy-bot');
      const onboarder = await t.addPrincipal('ServicePrincipal', 'onboarding-sp');
      const machineAdmin = await t.addPrincipal('User', 'Max Admin');
      const group = await t.addPrincipal('Group', 'ops');
      const member = await t.addPrincipal('User', 'Gina Groupie');
      await t.db
        .insertInto('group_members')
        .values({ group_id: group, member_id: member })
        .execute();
      t.authorizer.setGroupMembers(group, [member]);
      await t.assign(reader, READER_ROLE_ID, machine);
      await t.assign(contributor, CONTRIBUTOR_ROLE_ID, rg);
      await t.assign(onboarder, CONNECTED_MACHINE_ONBOARDING_ROLE_ID, rg);
      await t.assign(machineAdmin, CONNECTED_MACHINE_RESOURCE_ADMINISTRATOR_ROLE_ID, machine);
      await t.assign(group, CONTRIBUTOR_ROLE_ID, machine);

      const res = await t.inject(
        'GET',
        `${machine}/providers/Tether.Authorization/access?api-version=2026-11-01`,
        {
          as: owner,
        },
      );
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const entries = res.body['value'] as Entry[];
      const of = (id: string): Entry[] => entries.filter((e) => e.principalId === id);
      const expect = (
        id: string,
        roleName: string,
        assignedAt: string,
        indirect: boolean,
      ): void => {
        const found = of(id).find((e) => e.roleName === roleName);
        assert.ok(found, `${id} ${roleName}`);
        assert.equal(found.assignedAt, assignedAt);
        assert.equal(found.inherited, assignedAt !== machine);
        assert.equal(found.indirectAdministrator, indirect, roleName);
      };
      expect(owner, 'Owner', `/subscriptions/${sub}`, true);
      expect(reader, 'Reader', machine, false);
      expect(contributor, 'Contributor', rg, true);
      expect(onboarder, 'Azure Connected Machine Onboarding', rg, false);
      expect(machineAdmin, 'Azure Connected Machine Resource Administrator', machine, true);
      expect(group, 'Contributor', machine, true);
      // Guest configuration assignments can remediate, and policy assignments make them.
      const gcWriter = await t.addPrincipal('ServicePrincipal', 'gc-bot');
      const policyWriter = await t.addPrincipal('ServicePrincipal', 'policy-bot');
      await t.assign(gcWriter, GUEST_CONFIGURATION_RESOURCE_CONTRIBUTOR_ROLE_ID, rg);
      await t.assign(policyWriter, RESOURCE_POLICY_CONTRIBUTOR_ROLE_ID, rg);
      const again = await t.inject(
        'GET',
        `${machine}/providers/Tether.Authorization/access?api-version=2026-11-01`,
        { as: owner },
      );
      const flagged = (id: string) =>
        (again.body['value'] as Entry[]).find((e) => e.principalId === id)?.indirectAdministrator;
      assert.equal(flagged(gcWriter), true);
      assert.equal(flagged(policyWriter), true);
      assert.equal(flagged(reader), false);
      const viaGroup = of(member)[0];
      assert.equal(viaGroup?.viaGroup, group);
      assert.equal(viaGroup?.indirectAdministrator, true);
      assert.equal(viaGroup?.displayName, 'Gina Groupie');
      assert.equal(of(owner)[0]?.displayName, 'Olivia Owner');
      assert.equal(
        of(reader)[0]?.roleDefinitionId,
        `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/${READER_ROLE_ID}`,
      );
      assert.ok(
        of(reader)[0]?.assignmentId.startsWith(
          `${machine}/providers/Microsoft.Authorization/roleAssignments/`,
        ),
      );

      const atOtherGroup = await t.addResourceGroup(sub, 'rg2');
      const elsewhere = await t.inject(
        'GET',
        `${atOtherGroup}/providers/Tether.Authorization/access?api-version=2026-11-01`,
        {
          as: owner,
        },
      );
      const ids = (elsewhere.body['value'] as Entry[]).map((e) => e.principalId);
      assert.ok(ids.includes(owner));
      assert.ok(
        !ids.includes(reader) && !ids.includes(contributor),
        'grants in rg1 do not reach rg2',
      );
    });

    void it("checks access for one principal: its own and its groups' grants reaching the scope, and their actions", async () => {
      const group = await t.addPrincipal('Group', 'web admins');
      const person = await t.addPrincipal('User', 'Wes Webadmin');
      const other = await t.addPrincipal('User', 'Otto Other');
      await t.db
        .insertInto('group_members')
        .values({ group_id: group, member_id: person })
        .execute();
      t.authorizer.setGroupMembers(group, [person]);
      await t.assign(person, READER_ROLE_ID, rg);
      await t.assign(group, CONNECTED_MACHINE_RESOURCE_ADMINISTRATOR_ROLE_ID, machine);
      await t.assign(other, CONTRIBUTOR_ROLE_ID, machine);
      const elsewhere = await t.addResourceGroup(sub, 'rg-check');
      await t.assign(person, OWNER_ROLE_ID, elsewhere);
      const check = (scope: string, id: string, as = owner) =>
        t.inject(
          'GET',
          `${scope}/providers/Tether.Authorization/access/${id}?api-version=2026-11-01`,
          {
            as,
          },
        );

      const res = await check(machine, person);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body['displayName'], 'Wes Webadmin');
      assert.equal(res.body['principalType'], 'User');
      const lines = res.body['assignments'] as (Entry & { viaGroupName: string | null })[];
      assert.deepEqual(
        lines.map((l) => [l.roleName, l.assignedAt, l.inherited, l.viaGroupName]).sort(),
        [
          ['Azure Connected Machine Resource Administrator', machine, false, 'web admins'],
          ['Reader', rg, true, null],
        ],
        'the Reader grant is inherited from the group, the administrator one comes via the group; Owner elsewhere and the other person are not here',
      );
      assert.ok(lines.every((l) => l.principalId === person));
      const actions = (res.body['permissions'] as { actions: string[] }[]).flatMap(
        (p) => p.actions,
      );
      assert.ok(actions.includes('*/read'));
      assert.ok(actions.includes('Microsoft.HybridCompute/machines/extensions/*'));
      assert.ok(!actions.includes('*'), 'Owner at another group does not reach here');

      // Above the machine, only the inherited Reader grant remains.
      const atGroup = await check(rg, person);
      assert.deepEqual(
        (atGroup.body['assignments'] as Entry[]).map((l) => l.roleName),
        ['Reader'],
      );
      // A principal with nothing here has an empty answer, not an error.
      const stranger = await t.addPrincipal('ServicePrincipal', 'idle-bot');
      const none = await check(machine, stranger);
      assert.equal(none.status, 200);
      assert.deepEqual(none.body['assignments'], []);
      assert.deepEqual(none.body['permissions'], []);

      const unknown = await check(machine, '00000000-0000-0000-0000-00000000abcd');
      assert.equal(unknown.status, 404);
      assert.match(JSON.stringify(unknown.body), /no user, group or service principal/);
      const malformed = await check(machine, 'not-a-guid');
      assert.equal(malformed.status, 400);

      // Only who may read role assignments here may ask; the person asking about themselves is
      // no exception without that right.
      const onboarder = await t.addPrincipal();
      await t.assign(onboarder, CONNECTED_MACHINE_ONBOARDING_ROLE_ID, rg);
      assert.equal((await check(machine, person, onboarder)).status, 403);
      assert.equal((await check(machine, onboarder, onboarder)).status, 403);
    });

    void it('needs roleAssignments/read: a Reader may look, an Onboarding principal may not', async () => {
      const onboarder = await t.addPrincipal();
      await t.assign(onboarder, CONNECTED_MACHINE_ONBOARDING_ROLE_ID, rg);
      const res = await t.inject(
        'GET',
        `${rg}/providers/Tether.Authorization/access?api-version=2026-11-01`,
        { as: onboarder },
      );
      assert.equal(res.status, 403);
      const bad = await t.inject(
        'GET',
        `${rg}/providers/Tether.Authorization/access?api-version=2022-04-01`,
        { as: owner },
      );
      assert.equal((bad.body['error'] as { code: string }).code, 'InvalidApiVersionParameter');
    });

    void it("answers the caller's own permissions at any scope", async () => {
      const onboarder = await t.addPrincipal();
      await t.assign(onboarder, CONNECTED_MACHINE_ONBOARDING_ROLE_ID, rg);
      const atMachine = await t.inject(
        'GET',
        `${machine}/providers/Microsoft.Authorization/permissions?api-version=2022-04-01`,
        {
          as: onboarder,
        },
      );
      assert.equal(atMachine.status, 200);
      const value = atMachine.body['value'] as { actions: string[] }[];
      assert.ok(value.some((p) => p.actions.includes('Microsoft.HybridCompute/machines/write')));
      const atSub = await t.inject(
        'GET',
        `/subscriptions/${sub}/providers/Microsoft.Authorization/permissions?api-version=2022-04-01`,
        {
          as: onboarder,
        },
      );
      assert.deepEqual(
        atSub.body['value'],
        [],
        'a grant on a group does not reach up to its subscription',
      );
      const anonymous = await t.inject(
        'GET',
        `${machine}/providers/Microsoft.Authorization/permissions?api-version=2022-04-01`,
      );
      assert.equal(anonymous.status, 401);
    });
  });
}
