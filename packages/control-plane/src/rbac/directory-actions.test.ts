// Who may manage the directory: Owner and User Access Administrator at the tenant root; a
// Contributor may look but cannot mint principals or join a privileged group.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Authorizer } from './authorizer.js';
import { BUILT_IN_ROLES, CONTRIBUTOR_ROLE_ID, OWNER_ROLE_ID } from './built-in-roles.js';
import { DIRECTORY_ACTIONS, DIRECTORY_SCOPE } from './directory-actions.js';

const SUB = '/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590';
const ACTIONS = Object.values(DIRECTORY_ACTIONS);
const READS = ACTIONS.filter((a) => a.endsWith('/read'));

const EXPECTED: Record<string, readonly string[]> = {
  Owner: ACTIONS,
  'User Access Administrator': ACTIONS,
  Contributor: READS,
  Reader: READS,
  'Azure Connected Machine Onboarding': [],
  'Azure Connected Machine Resource Administrator': [],
  'Tether Connected Machine': [],
  'Resource Policy Contributor': READS,
  'Guest Configuration Resource Contributor': READS,
};

void describe('directory actions by built-in role assigned at the tenant root', () => {
  for (const role of BUILT_IN_ROLES) {
    const engine = new Authorizer();
    engine.putRoleAssignment({
      name: 'a1',
      scope: '/',
      roleDefinitionName: role.name,
      principalId: 'p1',
      principalType: 'User',
    });
    const expected = EXPECTED[role.roleName];
    for (const action of ACTIONS) {
      const allowed = expected?.includes(action) === true;
      void it(`${role.roleName} ${allowed ? 'may' : 'may not'} ${action}`, () =>
        assert.equal(engine.isAllowed('p1', action, DIRECTORY_SCOPE), allowed));
    }
  }

  void it('covers every built-in role', () => {
    assert.deepEqual(BUILT_IN_ROLES.map((r) => r.roleName).sort(), Object.keys(EXPECTED).sort());
  });
});

void describe('directory escalation', () => {
  void it('a Contributor cannot add itself to a group that holds Owner', () => {
    const engine = new Authorizer();
    engine.putRoleAssignment({
      name: 'c',
      scope: '/',
      roleDefinitionName: CONTRIBUTOR_ROLE_ID,
      principalId: 'contributor',
      principalType: 'User',
    });
    engine.putRoleAssignment({
      name: 'o',
      scope: '/',
      roleDefinitionName: OWNER_ROLE_ID,
      principalId: 'admins',
      principalType: 'Group',
    });
    const may = (action: string): boolean =>
      engine.isAllowed('contributor', action, DIRECTORY_SCOPE);
    assert.equal(may(DIRECTORY_ACTIONS.groupMembersWrite), false);
    assert.equal(may(DIRECTORY_ACTIONS.servicePrincipalsWrite), false);
    assert.equal(may(DIRECTORY_ACTIONS.groupsRead), true);
  });

  void it('an Owner of a subscription is not an owner of the directory', () => {
    const engine = new Authorizer();
    engine.putRoleAssignment({
      name: 'o',
      scope: SUB,
      roleDefinitionName: OWNER_ROLE_ID,
      principalId: 'sub-owner',
      principalType: 'User',
    });
    for (const action of ACTIONS)
      assert.equal(engine.isAllowed('sub-owner', action, DIRECTORY_SCOPE), false);
  });
});
