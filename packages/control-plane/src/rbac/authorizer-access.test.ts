// "Who has access" (S1, S2): every principal with a role at a scope, where it was assigned,
// through which group, and whether it is an indirect administrator of the machines there.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Authorizer, INDIRECT_ADMINISTRATOR_ACTIONS } from './authorizer.js';
import {
  CONNECTED_MACHINE_ONBOARDING_ROLE_ID,
  CONTRIBUTOR_ROLE_ID,
  READER_ROLE_ID,
} from './built-in-roles.js';
import type { AccessEntry, RoleDefinition } from './types.js';

const SUB = '/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590';
const RG = `${SUB}/resourcegroups/rg1`;
const RG2 = `${SUB}/resourcegroups/rg2`;
const MACHINE = `${RG}/providers/microsoft.hybridcompute/machines/web01`;
const OTHER_MACHINE = `${RG}/providers/microsoft.hybridcompute/machines/web02`;

function customRole(name: string, actions: string[], notActions: string[] = []): RoleDefinition {
  return {
    name,
    roleName: `Custom ${name}`,
    description: '',
    roleType: 'CustomRole',
    permissions: [{ actions, notActions, dataActions: [], notDataActions: [] }],
    assignableScopes: ['/'],
  };
}

void describe('accessAt', () => {
  const engine = new Authorizer();
  engine.putRoleAssignment({
    name: 'a-root',
    principalId: 'root-reader',
    principalType: 'User',
    roleDefinitionName: READER_ROLE_ID,
    scope: '/',
  });
  engine.putRoleAssignment({
    name: 'a-sub',
    principalId: 'ops',
    principalType: 'Group',
    roleDefinitionName: CONTRIBUTOR_ROLE_ID,
    scope: SUB,
  });
  engine.putRoleAssignment({
    name: 'a-rg',
    principalId: 'onboarder',
    principalType: 'ServicePrincipal',
    roleDefinitionName: CONNECTED_MACHINE_ONBOARDING_ROLE_ID,
    scope: RG,
  });
  engine.putRoleAssignment({
    name: 'a-machine',
    principalId: 'alice',
    principalType: 'User',
    roleDefinitionName: READER_ROLE_ID,
    scope: MACHINE,
  });
  engine.putRoleAssignment({
    name: 'a-rg2',
    principalId: 'bob',
    principalType: 'User',
    roleDefinitionName: CONTRIBUTOR_ROLE_ID,
    scope: RG2,
  });
  engine.putRoleAssignment({
    name: 'a-other',
    principalId: 'carol',
    principalType: 'User',
    roleDefinitionName: CONTRIBUTOR_ROLE_ID,
    scope: OTHER_MACHINE,
  });
  engine.putRoleAssignment({
    name: 'a-dangling',
    principalId: 'dave',
    principalType: 'User',
    roleDefinitionName: 'deleted-role',
    scope: SUB,
  });
  engine.setGroupMembers('ops', ['alice', 'night-shift']);
  engine.setGroupMembers('night-shift', ['erin', 'machine-identity']);
  engine.putPrincipal('machine-identity', 'ServicePrincipal');

  const contributorLine = {
    roleDefinitionName: CONTRIBUTOR_ROLE_ID,
    roleName: 'Contributor',
    assignmentName: 'a-sub',
    assignedAt: SUB,
    inherited: true,
    indirectAdministrator: true,
  };
  const expected: AccessEntry[] = [
    {
      principalId: 'root-reader',
      principalType: 'User',
      viaGroup: undefined,
      roleDefinitionName: READER_ROLE_ID,
      roleName: 'Reader',
      assignmentName: 'a-root',
      assignedAt: '/',
      inherited: true,
      indirectAdministrator: false,
    },
    { principalId: 'ops', principalType: 'Group', viaGroup: undefined, ...contributorLine },
    { principalId: 'alice', principalType: 'User', viaGroup: 'ops', ...contributorLine },
    { principalId: 'night-shift', principalType: 'Group', viaGroup: 'ops', ...contributorLine },
    { principalId: 'erin', principalType: 'User', viaGroup: 'ops', ...contributorLine },
    {
      principalId: 'machine-identity',
      principalType: 'ServicePrincipal',
      viaGroup: 'ops',
      ...contributorLine,
    },
    {
      principalId: 'onboarder',
      principalType: 'ServicePrincipal',
      viaGroup: undefined,
      roleDefinitionName: CONNECTED_MACHINE_ONBOARDING_ROLE_ID,
      roleName: 'Azure Connected Machine Onboarding',
      assignmentName: 'a-rg',
      assignedAt: RG,
      inherited: true,
      indirectAdministrator: false,
    },
    {
      principalId: 'alice',
      principalType: 'User',
      viaGroup: undefined,
      roleDefinitionName: READER_ROLE_ID,
      roleName: 'Reader',
      assignmentName: 'a-machine',
      assignedAt: MACHINE,
      inherited: false,
      indirectAdministrator: false,
    },
  ];

  void it('lists assignments at the scope and above, groups expanded, root first', () => {
    assert.deepEqual(engine.accessAt(MACHINE), expected);
  });

  void it('reads the scope without regard to case or a doubled slash', () => {
    assert.deepEqual(engine.accessAt(`/${MACHINE.toUpperCase()}/`), expected);
  });

  void it('marks only assignments made above the scope as inherited', () => {
    const atRg = engine.accessAt(RG);
    assert.deepEqual(
      atRg.map((e) => [e.assignmentName, e.inherited]),
      [
        ['a-root', true],
        ['a-sub', true],
        ['a-sub', true],
        ['a-sub', true],
        ['a-sub', true],
        ['a-sub', true],
        ['a-rg', false],
      ],
    );
  });

  void it('leaves out sibling scopes, scopes below and dangling roles', () => {
    const names = new Set(engine.accessAt(RG).map((e) => e.assignmentName));
    for (const absent of ['a-rg2', 'a-other', 'a-machine', 'a-dangling'])
      assert.equal(names.has(absent), false, absent);
  });

  void it('rejects a malformed scope', () => {
    assert.throws(() => engine.accessAt(`${SUB}//x`), { code: 'ERR_INVALID_SCOPE' });
  });
});

void describe('indirectAdministrator', () => {
  const cases: [actions: string[], notActions: string[], expected: boolean][] = [
    [['Microsoft.HybridCompute/machines/extensions/write'], [], true],
    [['Microsoft.HybridCompute/machines/extensions/*'], [], true],
    [['Microsoft.HybridCompute/*'], [], true],
    [['*/write'], [], true],
    [['*'], ['Microsoft.HybridCompute/machines/extensions/write'], true],
    [['Microsoft.GuestConfiguration/guestConfigurationAssignments/write'], [], true],
    [['Microsoft.Authorization/policyAssignments/*'], [], true],
    [['Microsoft.Authorization/policyAssignments/read'], [], false],
    [
      ['*'],
      [
        '*/extensions/*',
        'Microsoft.GuestConfiguration/*',
        'Microsoft.Authorization/policyAssignments/write',
      ],
      false,
    ],
    [
      [
        'Microsoft.HybridCompute/machines/extensions/read',
        'Microsoft.HybridCompute/machines/extensions/delete',
      ],
      [],
      false,
    ],
    [['Microsoft.HybridCompute/machines/write'], [], false],
  ];
  for (const [actions, notActions, expected] of cases) {
    void it(`is ${expected} for actions ${actions.join(', ')}${notActions.length > 0 ? ` minus ${notActions.join(', ')}` : ''}`, () => {
      const engine = new Authorizer();
      engine.putRoleDefinition(customRole('r1', actions, notActions));
      engine.putRoleAssignment({
        name: 'a1',
        principalId: 'alice',
        principalType: 'User',
        roleDefinitionName: 'r1',
        scope: RG,
      });
      assert.deepEqual(
        engine.accessAt(MACHINE).map((e) => e.indirectAdministrator),
        [expected],
      );
      assert.equal(
        INDIRECT_ADMINISTRATOR_ACTIONS.some((a) => engine.isAllowed('alice', a, MACHINE)),
        expected,
      );
    });
  }
});

void describe('principal types of expanded members', () => {
  void it('uses the recorded type, else Group for a group, else the type of its own assignments, else User', () => {
    const engine = new Authorizer();
    engine.putRoleAssignment({
      name: 'a1',
      principalId: 'ops',
      principalType: 'Group',
      roleDefinitionName: READER_ROLE_ID,
      scope: SUB,
    });
    engine.putRoleAssignment({
      name: 'a2',
      principalId: 'sp-1',
      principalType: 'ServicePrincipal',
      roleDefinitionName: READER_ROLE_ID,
      scope: RG2,
    });
    engine.setGroupMembers('ops', ['sub-group', 'sp-1', 'recorded', 'unknown']);
    engine.setGroupMembers('sub-group', []);
    engine.putPrincipal('recorded', 'ServicePrincipal');
    const types = Object.fromEntries(
      engine.accessAt(RG).map((e) => [e.principalId, e.principalType]),
    );
    assert.deepEqual(types, {
      ops: 'Group',
      'sub-group': 'Group',
      'sp-1': 'ServicePrincipal',
      recorded: 'ServicePrincipal',
      unknown: 'User',
    });
    assert.throws(() => engine.putPrincipal('x', 'Robot' as 'User'), {
      code: 'ERR_INVALID_PRINCIPAL',
      message: /"Robot"/,
    });
  });
});
