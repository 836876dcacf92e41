// Bad input to the engine: each is refused with a specific error naming the value, and the
// engine is left exactly as it was.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isTetherError } from '@tether/protocol';
import { Authorizer } from './authorizer.js';
import { READER_ROLE_ID } from './built-in-roles.js';
import type { RoleAssignment, RoleDefinition } from './types.js';

const SUB = '/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590';
const READ = 'Microsoft.HybridCompute/machines/read';

const GOOD_ASSIGNMENT: RoleAssignment = {
  name: 'a1',
  scope: SUB,
  roleDefinitionName: READER_ROLE_ID,
  principalId: 'alice',
  principalType: 'User',
};

const GOOD_ROLE: RoleDefinition = {
  name: 'r1',
  roleName: 'Machine reader',
  description: 'reads machines',
  roleType: 'CustomRole',
  permissions: [{ actions: [READ], notActions: [], dataActions: [], notDataActions: [] }],
  assignableScopes: [SUB],
};

/**
 * An engine holding assignment a1 and custom role r1 (the names the bad inputs reuse, so a
 * refused replacement must keep the old one) and a fingerprint of what it answers.
 */
function seeded(): { engine: Authorizer; snapshot: () => string } {
  const engine = new Authorizer();
  engine.putRoleDefinition(GOOD_ROLE);
  engine.putRoleAssignment(GOOD_ASSIGNMENT);
  engine.putRoleAssignment({
    ...GOOD_ASSIGNMENT,
    name: 'a2',
    roleDefinitionName: 'r1',
    principalId: 'bob',
  });
  const snapshot = (): string =>
    JSON.stringify([
      engine.accessAt(SUB),
      engine.getRoleDefinition('r1'),
      engine.isAllowed('bob', READ, SUB),
    ]);
  return { engine, snapshot };
}

function expectRefusal(action: () => void, code: string, message: RegExp): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(isTetherError(error), `expected a TetherError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.message, message);
    return true;
  });
}

void describe('putRoleAssignment refuses bad input and changes nothing', () => {
  const cases: [label: string, input: unknown, code: string, message: RegExp][] = [
    ['not an object', null, 'ERR_INVALID_ROLE_ASSIGNMENT', /must be an object/],
    [
      'empty name',
      { ...GOOD_ASSIGNMENT, name: '' },
      'ERR_INVALID_ROLE_ASSIGNMENT',
      /name "" is not valid/,
    ],
    [
      'name with a slash',
      { ...GOOD_ASSIGNMENT, name: 'a/1' },
      'ERR_INVALID_ROLE_ASSIGNMENT',
      /name "a\/1"/,
    ],
    [
      'missing principal',
      { ...GOOD_ASSIGNMENT, principalId: undefined },
      'ERR_INVALID_ROLE_ASSIGNMENT',
      /principalId undefined/,
    ],
    [
      'numeric role',
      { ...GOOD_ASSIGNMENT, roleDefinitionName: 7 },
      'ERR_INVALID_ROLE_ASSIGNMENT',
      /roleDefinitionName 7/,
    ],
    [
      'unknown type',
      { ...GOOD_ASSIGNMENT, principalType: 'Device' },
      'ERR_INVALID_ROLE_ASSIGNMENT',
      /principalType "Device"/,
    ],
    [
      'bad scope',
      { ...GOOD_ASSIGNMENT, scope: `${SUB}/resourceGroups` },
      'ERR_INVALID_SCOPE',
      /resourcegroups" has no name/,
    ],
    [
      'relative scope',
      { ...GOOD_ASSIGNMENT, scope: 'subscriptions/x' },
      'ERR_INVALID_SCOPE',
      /does not start/,
    ],
  ];
  for (const [label, input, code, message] of cases) {
    void it(label, () => {
      const { engine, snapshot } = seeded();
      const before = snapshot();
      expectRefusal(() => engine.putRoleAssignment(input as RoleAssignment), code, message);
      assert.equal(snapshot(), before);
    });
  }
});

void describe('putRoleDefinition refuses bad input and changes nothing', () => {
  const block = GOOD_ROLE.permissions[0];
  const cases: [label: string, input: unknown, message: RegExp][] = [
    ['not an object', 'role', /must be an object/],
    ['empty name', { ...GOOD_ROLE, name: '' }, /name "" is not valid/],
    ['blank roleName', { ...GOOD_ROLE, roleName: '  ' }, /roleName must be a non-empty string/],
    ['unknown roleType', { ...GOOD_ROLE, roleType: 'Mixed' }, /roleType must be/],
    ['permissions not an array', { ...GOOD_ROLE, permissions: {} }, /permissions must be an array/],
    [
      'actions not strings',
      { ...GOOD_ROLE, permissions: [{ ...block, actions: [1] }] },
      /permissions\[0\]\.actions must be an array of strings/,
    ],
    [
      'empty action',
      { ...GOOD_ROLE, permissions: [{ ...block, actions: [READ, ''] }] },
      /permissions\[0\]\.actions\[1\] is not valid \(an action pattern is empty/,
    ],
    [
      'action with a space',
      { ...GOOD_ROLE, permissions: [{ ...block, notActions: ['Microsoft.X/ y'] }] },
      /permissions\[0\]\.notActions\[0\] is not valid/,
    ],
    [
      'bad data action',
      { ...GOOD_ROLE, permissions: [{ ...block, dataActions: ['a\tb'] }] },
      /dataActions\[0\]/,
    ],
    [
      'no assignable scopes',
      { ...GOOD_ROLE, assignableScopes: [] },
      /assignableScopes must list at least one scope/,
    ],
    [
      'bad assignable scope',
      { ...GOOD_ROLE, assignableScopes: [SUB, '/subscriptions/../x'] },
      /assignableScopes\[1\] is not a valid scope/,
    ],
  ];
  for (const [label, input, message] of cases) {
    void it(label, () => {
      const { engine, snapshot } = seeded();
      const before = snapshot();
      expectRefusal(
        () => engine.putRoleDefinition(input as RoleDefinition),
        'ERR_INVALID_ROLE_DEFINITION',
        message,
      );
      assert.equal(snapshot(), before);
    });
  }

  void it('accepts missing data-action lists as empty', () => {
    const engine = new Authorizer();
    engine.putRoleDefinition({
      ...GOOD_ROLE,
      permissions: [{ actions: [READ] } as RoleDefinition['permissions'][number]],
    });
    assert.deepEqual(engine.getRoleDefinition('r1')?.permissions, [
      { actions: [READ], notActions: [], dataActions: [], notDataActions: [] },
    ]);
  });
});
