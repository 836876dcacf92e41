// Permission checks: inheritance down the scope tree and nowhere else, case-insensitivity,
// notActions per permission block, custom roles, dangling references and removal.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Authorizer } from './authorizer.js';
import {
  CONTRIBUTOR_ROLE_ID,
  OWNER_ROLE_ID,
  READER_ROLE_ID,
  USER_ACCESS_ADMINISTRATOR_ROLE_ID,
} from './built-in-roles.js';
import type { PrincipalType, RoleDefinition } from './types.js';

const SUB = '/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590';
const OTHER_SUB = '/subscriptions/7d2c4a35-2a4f-4a57-8e3e-7f3e2a7c1d10';
const RG = `${SUB}/resourceGroups/rg1`;
const RG2 = `${SUB}/resourceGroups/rg2`;
const RG_PREFIXED = `${SUB}/resourceGroups/rg10`;
const MACHINE = `${RG}/providers/Microsoft.HybridCompute/machines/web01`;
const MACHINE_SIBLING = `${RG}/providers/Microsoft.HybridCompute/machines/web02`;
const MACHINE_PREFIXED = `${RG}/providers/Microsoft.HybridCompute/machines/web011`;
const MACHINE_IN_PREFIXED_RG = `${RG_PREFIXED}/providers/Microsoft.HybridCompute/machines/web01`;
const EXTENSION = `${MACHINE}/extensions/AzureMonitorLinuxAgent`;
const READ = 'Microsoft.HybridCompute/machines/read';

function assign(
  engine: Authorizer,
  name: string,
  principalId: string,
  roleDefinitionName: string,
  scope: string,
  principalType: PrincipalType = 'User',
): void {
  engine.putRoleAssignment({ name, principalId, roleDefinitionName, scope, principalType });
}

function customRole(name: string, overrides: Partial<RoleDefinition> = {}): RoleDefinition {
  return {
    name,
    roleName: `Custom ${name}`,
    description: '',
    roleType: 'CustomRole',
    permissions: [{ actions: [READ], notActions: [], dataActions: [], notDataActions: [] }],
    assignableScopes: ['/'],
    ...overrides,
  };
}

void describe('scope inheritance', () => {
  const cases: [assignedAt: string, checkedAt: string, expected: boolean][] = [
    ['/', '/', true],
    ['/', SUB, true],
    ['/', OTHER_SUB, true],
    ['/', EXTENSION, true],
    [SUB, SUB, true],
    [SUB, RG, true],
    [SUB, MACHINE, true],
    [SUB, EXTENSION, true],
    [SUB, '/', false],
    [SUB, OTHER_SUB, false],
    [RG, RG, true],
    [RG, MACHINE, true],
    [RG, EXTENSION, true],
    [RG, SUB, false],
    [RG, RG2, false],
    [RG, RG_PREFIXED, false],
    [RG, MACHINE_IN_PREFIXED_RG, false],
    [MACHINE, MACHINE, true],
    [MACHINE, EXTENSION, true],
    [MACHINE, RG, false],
    [MACHINE, MACHINE_SIBLING, false],
    [MACHINE, MACHINE_PREFIXED, false],
  ];
  const short = (s: string): string => s.replace(SUB, '/sub').replace(OTHER_SUB, '/other-sub');
  for (const [assignedAt, checkedAt, expected] of cases) {
    void it(`Reader at ${short(assignedAt)} ${expected ? 'reaches' : 'does not reach'} ${short(checkedAt)}`, () => {
      const engine = new Authorizer();
      assign(engine, 'a1', 'alice', READER_ROLE_ID, assignedAt);
      assert.equal(engine.isAllowed('alice', READ, checkedAt), expected);
    });
  }

  void it('denies by default: no assignment, unknown principal, empty action', () => {
    const engine = new Authorizer();
    assert.equal(engine.isAllowed('alice', READ, MACHINE), false);
    assign(engine, 'a1', 'alice', OWNER_ROLE_ID, '/');
    assert.equal(engine.isAllowed('bob', READ, MACHINE), false);
    assert.equal(engine.isAllowed('alice', '', MACHINE), false);
  });

  void it('refuses a malformed scope with a clear error instead of answering', () => {
    const engine = new Authorizer();
    assign(engine, 'a1', 'alice', OWNER_ROLE_ID, '/');
    assert.throws(() => engine.isAllowed('alice', READ, `${SUB}/resourceGroups/../x`), {
      code: 'ERR_INVALID_SCOPE',
    });
  });
});

void describe('case-insensitivity', () => {
  void it('ignores case in scopes, actions, principal ids and role ids', () => {
    const engine = new Authorizer();
    engine.putRoleAssignment({
      name: 'A1',
      principalId: 'ALICE-0001',
      roleDefinitionName: READER_ROLE_ID.toUpperCase(),
      scope: RG.toUpperCase(),
      principalType: 'User',
    });
    assert.equal(
      engine.isAllowed(
        'alice-0001',
        'MICROSOFT.HYBRIDCOMPUTE/MACHINES/READ',
        MACHINE.toLowerCase(),
      ),
      true,
    );
    assert.equal(engine.isAllowed('Alice-0001', READ, `/${MACHINE}/`), true);
    engine.removeRoleAssignment('a1');
    assert.equal(engine.isAllowed('alice-0001', READ, MACHINE), false);
  });
});

void describe('notActions', () => {
  const machinesButNotDelete = {
    actions: ['Microsoft.HybridCompute/*'],
    notActions: ['Microsoft.HybridCompute/machines/delete'],
    dataActions: [],
    notDataActions: [],
  };

  void it('subtracts a block notActions from that block', () => {
    const engine = new Authorizer();
    engine.putRoleDefinition(customRole('r1', { permissions: [machinesButNotDelete] }));
    assign(engine, 'a1', 'alice', 'r1', SUB);
    assert.equal(
      engine.isAllowed('alice', 'Microsoft.HybridCompute/machines/write', MACHINE),
      true,
    );
    assert.equal(
      engine.isAllowed('alice', 'Microsoft.HybridCompute/machines/delete', MACHINE),
      false,
    );
  });

  void it('does not subtract from another block of the same role', () => {
    const engine = new Authorizer();
    const deleteOnly = {
      actions: ['Microsoft.HybridCompute/machines/delete'],
      notActions: [],
      dataActions: [],
      notDataActions: [],
    };
    engine.putRoleDefinition(customRole('r1', { permissions: [machinesButNotDelete, deleteOnly] }));
    assign(engine, 'a1', 'alice', 'r1', SUB);
    assert.equal(
      engine.isAllowed('alice', 'Microsoft.HybridCompute/machines/delete', MACHINE),
      true,
    );
  });

  void it('does not subtract from another role: Contributor plus User Access Administrator may assign roles', () => {
    const engine = new Authorizer();
    assign(engine, 'a1', 'alice', CONTRIBUTOR_ROLE_ID, SUB);
    const write = 'Microsoft.Authorization/roleAssignments/write';
    assert.equal(engine.isAllowed('alice', write, MACHINE), false);
    assign(engine, 'a2', 'alice', USER_ACCESS_ADMINISTRATOR_ROLE_ID, RG);
    assert.equal(engine.isAllowed('alice', write, MACHINE), true);
    assert.equal(engine.isAllowed('alice', write, RG2), false);
  });

  void it('matches notActions with wildcards and without regard to case', () => {
    const engine = new Authorizer();
    engine.putRoleDefinition(
      customRole('r1', {
        permissions: [
          {
            actions: ['*'],
            notActions: ['*/DELETE', 'microsoft.hybridcompute/machines/extensions/*'],
            dataActions: [],
            notDataActions: [],
          },
        ],
      }),
    );
    assign(engine, 'a1', 'alice', 'r1', SUB);
    assert.equal(
      engine.isAllowed('alice', 'Microsoft.Resources/subscriptions/resourceGroups/delete', RG),
      false,
    );
    assert.equal(
      engine.isAllowed('alice', 'Microsoft.HybridCompute/machines/extensions/read', MACHINE),
      false,
    );
    assert.equal(
      engine.isAllowed('alice', 'Microsoft.HybridCompute/machines/write', MACHINE),
      true,
    );
  });
});

void describe('custom roles', () => {
  void it('takes effect when defined, changes when redefined and stops when removed', () => {
    const engine = new Authorizer();
    assign(engine, 'a1', 'alice', 'r1', SUB);
    assert.equal(engine.isAllowed('alice', READ, MACHINE), false, 'a dangling role grants nothing');
    engine.putRoleDefinition(customRole('r1'));
    assert.equal(engine.isAllowed('alice', READ, MACHINE), true);
    engine.putRoleDefinition(
      customRole('r1', {
        permissions: [
          {
            actions: ['Microsoft.HybridCompute/machines/write'],
            notActions: [],
            dataActions: [],
            notDataActions: [],
          },
        ],
      }),
    );
    assert.equal(engine.isAllowed('alice', READ, MACHINE), false);
    assert.equal(
      engine.isAllowed('alice', 'Microsoft.HybridCompute/machines/write', MACHINE),
      true,
    );
    engine.removeRoleDefinition('R1');
    assert.equal(
      engine.isAllowed('alice', 'Microsoft.HybridCompute/machines/write', MACHINE),
      false,
    );
    assert.deepEqual(engine.accessAt(MACHINE), []);
    assert.deepEqual(engine.permissionsAt('alice', MACHINE), []);
    assert.equal(engine.getRoleDefinition('r1'), undefined);
  });

  void it('grants nothing where the role may not be assigned', () => {
    const engine = new Authorizer();
    engine.putRoleDefinition(customRole('r1', { assignableScopes: [RG.toUpperCase()] }));
    assert.deepEqual(engine.getRoleDefinition('r1')?.assignableScopes, [RG.toLowerCase()]);
    assert.equal(engine.isAssignable('r1', MACHINE), true);
    assert.equal(engine.isAssignable('r1', SUB), false);
    assert.equal(engine.isAssignable('no-such-role', MACHINE), false);
    assign(engine, 'a-sub', 'alice', 'r1', SUB);
    assign(engine, 'a-machine', 'bob', 'r1', MACHINE);
    assert.equal(engine.isAllowed('alice', READ, MACHINE), false);
    assert.equal(engine.isAllowed('bob', READ, MACHINE), true);
    assert.deepEqual(
      engine.accessAt(MACHINE).map((e) => e.principalId),
      ['bob'],
    );
  });

  void it('hands out frozen definitions that cannot be changed behind the engine', () => {
    const engine = new Authorizer();
    const input = customRole('r1');
    engine.putRoleDefinition(input);
    input.permissions[0]?.actions.push('*');
    assign(engine, 'a1', 'alice', 'r1', SUB);
    assert.equal(
      engine.isAllowed('alice', 'Microsoft.HybridCompute/machines/delete', MACHINE),
      false,
    );
    assert.throws(
      () => (engine.getRoleDefinition('r1')?.permissions[0]?.actions as string[]).push('*'),
      TypeError,
    );
  });
});

void describe('built-in roles are read-only', () => {
  void it('accepts an unchanged built-in role and refuses any change or removal', () => {
    const engine = new Authorizer();
    const owner = engine.getRoleDefinition(OWNER_ROLE_ID);
    assert.ok(owner);
    engine.putRoleDefinition(structuredClone(owner));
    assert.throws(
      () => engine.putRoleDefinition({ ...structuredClone(owner), roleType: 'CustomRole' }),
      {
        code: 'ERR_BUILT_IN_ROLE_READ_ONLY',
      },
    );
    const weakened = structuredClone(owner);
    weakened.permissions = [
      { actions: ['*/read'], notActions: [], dataActions: [], notDataActions: [] },
    ];
    assert.throws(() => engine.putRoleDefinition(weakened), {
      code: 'ERR_BUILT_IN_ROLE_READ_ONLY',
    });
    assert.throws(() => engine.removeRoleDefinition(OWNER_ROLE_ID.toUpperCase()), {
      code: 'ERR_BUILT_IN_ROLE_READ_ONLY',
    });
    assign(engine, 'a1', 'alice', OWNER_ROLE_ID, SUB);
    assert.equal(
      engine.isAllowed('alice', 'Microsoft.HybridCompute/machines/delete', MACHINE),
      true,
    );
  });

  void it('refuses a custom role that calls itself built in', () => {
    const engine = new Authorizer();
    assert.throws(() => engine.putRoleDefinition(customRole('r1', { roleType: 'BuiltInRole' })), {
      code: 'ERR_INVALID_ROLE_DEFINITION',
      message: /CustomRole/,
    });
    assert.equal(engine.getRoleDefinition('r1'), undefined);
  });
});

void describe('removal', () => {
  void it('removes one assignment and leaves the others', () => {
    const engine = new Authorizer();
    assign(engine, 'a1', 'alice', READER_ROLE_ID, SUB);
    assign(engine, 'a2', 'alice', READER_ROLE_ID, MACHINE);
    engine.removeRoleAssignment('a1');
    assert.equal(engine.isAllowed('alice', READ, RG), false);
    assert.equal(engine.isAllowed('alice', READ, MACHINE), true);
    engine.removeRoleAssignment('a1');
    engine.removeRoleAssignment('never-existed');
    assert.equal(engine.isAllowed('alice', READ, MACHINE), true);
  });

  void it('replaces an assignment put again under the same name', () => {
    const engine = new Authorizer();
    assign(engine, 'a1', 'alice', READER_ROLE_ID, RG);
    assign(engine, 'a1', 'bob', READER_ROLE_ID, RG2);
    assert.equal(engine.isAllowed('alice', READ, RG), false);
    assert.equal(engine.isAllowed('bob', READ, RG), false);
    assert.equal(engine.isAllowed('bob', READ, RG2), true);
    assert.equal(engine.accessAt(RG2).length, 1);
  });

  void it('removes a principal with all its assignments', () => {
    const engine = new Authorizer();
    assign(engine, 'a1', 'alice', READER_ROLE_ID, SUB);
    assign(engine, 'a2', 'alice', OWNER_ROLE_ID, MACHINE);
    assign(engine, 'a3', 'bob', READER_ROLE_ID, SUB);
    engine.removePrincipal('ALICE');
    assert.equal(engine.isAllowed('alice', READ, MACHINE), false);
    assert.equal(engine.isAllowed('bob', READ, MACHINE), true);
    assert.deepEqual(
      engine.accessAt(MACHINE).map((e) => e.assignmentName),
      ['a3'],
    );
    assign(engine, 'a1', 'alice', READER_ROLE_ID, RG);
    assert.equal(
      engine.isAllowed('alice', READ, MACHINE),
      true,
      'the freed name can be used again',
    );
  });
});

void describe('permissionsAt', () => {
  void it('returns the blocks of every role reaching the principal there, once per role', () => {
    const engine = new Authorizer();
    const writeMachines = {
      actions: ['Microsoft.HybridCompute/machines/write'],
      notActions: [],
      dataActions: [],
      notDataActions: [],
    };
    engine.putRoleDefinition(customRole('r1', { permissions: [writeMachines] }));
    assign(engine, 'a1', 'alice', READER_ROLE_ID, SUB);
    assign(engine, 'a2', 'alice', READER_ROLE_ID, RG);
    assign(engine, 'a3', 'alice', 'r1', MACHINE);
    assign(engine, 'a4', 'alice', 'missing-role', SUB);
    const reader = { actions: ['*/read'], notActions: [], dataActions: [], notDataActions: [] };
    assert.deepEqual(engine.permissionsAt('alice', MACHINE), [reader, writeMachines]);
    assert.deepEqual(engine.permissionsAt('alice', RG), [reader]);
    assert.deepEqual(engine.permissionsAt('alice', '/'), []);
    assert.deepEqual(engine.permissionsAt('nobody', MACHINE), []);
  });

  void it('returns copies the caller may change freely', () => {
    const engine = new Authorizer();
    assign(engine, 'a1', 'alice', READER_ROLE_ID, SUB);
    engine.permissionsAt('alice', SUB)[0]?.actions.push('*');
    assert.equal(engine.isAllowed('alice', 'Microsoft.HybridCompute/machines/delete', SUB), false);
    assert.deepEqual(engine.permissionsAt('alice', SUB)[0]?.actions, ['*/read']);
  });
});

void describe('version', () => {
  void it('moves on with every change, so an answer kept since is asked again', () => {
    const engine = new Authorizer();
    const changes: [string, () => void][] = [
      ['putRoleDefinition', () => engine.putRoleDefinition(customRole('r1'))],
      ['putRoleAssignment', () => assign(engine, 'a1', 'alice', 'r1', SUB)],
      ['setGroupMembers', () => engine.setGroupMembers('g1', ['alice'])],
      ['putPrincipal', () => engine.putPrincipal('bob', 'User')],
      ['removeRoleAssignment', () => engine.removeRoleAssignment('a1')],
      ['removeRoleDefinition', () => engine.removeRoleDefinition('r1')],
      ['removePrincipal', () => engine.removePrincipal('alice')],
      ['replaceState', () => engine.replaceState(new Authorizer())],
    ];
    for (const [name, change] of changes) {
      const before = engine.version;
      change();
      assert.ok(engine.version > before, `${name} moves the version on`);
    }
  });

  void it('stays put while nothing changes, whatever is asked', () => {
    const engine = new Authorizer();
    assign(engine, 'a1', 'alice', READER_ROLE_ID, SUB);
    const before = engine.version;
    engine.isAllowed('alice', READ, MACHINE);
    engine.permissionsAt('alice', MACHINE);
    engine.accessAt(MACHINE);
    assert.equal(engine.version, before);
  });
});
