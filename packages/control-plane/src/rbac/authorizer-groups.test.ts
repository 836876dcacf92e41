// Group membership: members inherit a group's assignments, through nested groups too, and a
// membership cycle neither loops nor widens access beyond the groups in it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Authorizer } from './authorizer.js';
import { OWNER_ROLE_ID, READER_ROLE_ID } from './built-in-roles.js';

const SUB = '/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590';
const RG = `${SUB}/resourceGroups/rg1`;
const MACHINE = `${RG}/providers/Microsoft.HybridCompute/machines/web01`;
const READ = 'Microsoft.HybridCompute/machines/read';
const DELETE = 'Microsoft.HybridCompute/machines/delete';

function engineWithGroupRole(scope = RG): Authorizer {
  const engine = new Authorizer();
  engine.putRoleAssignment({
    name: 'g-owner',
    principalId: 'operators',
    principalType: 'Group',
    roleDefinitionName: OWNER_ROLE_ID,
    scope,
  });
  return engine;
}

void describe('group membership', () => {
  void it('gives members the group assignments, at the group scope and below only', () => {
    const engine = engineWithGroupRole();
    engine.setGroupMembers('operators', ['alice', 'sp-deployer']);
    assert.equal(engine.isAllowed('alice', DELETE, MACHINE), true);
    assert.equal(engine.isAllowed('SP-DEPLOYER', DELETE, RG), true);
    assert.equal(engine.isAllowed('alice', DELETE, SUB), false);
    assert.equal(engine.isAllowed('bob', DELETE, MACHINE), false);
  });

  void it('does not give a group its members assignments', () => {
    const engine = new Authorizer();
    engine.putRoleAssignment({
      name: 'a1',
      principalId: 'alice',
      principalType: 'User',
      roleDefinitionName: OWNER_ROLE_ID,
      scope: RG,
    });
    engine.setGroupMembers('operators', ['alice', 'bob']);
    assert.equal(engine.isAllowed('operators', DELETE, MACHINE), false);
    assert.equal(engine.isAllowed('bob', DELETE, MACHINE), false);
  });

  void it('replaces the member list on each call', () => {
    const engine = engineWithGroupRole();
    engine.setGroupMembers('operators', ['alice']);
    engine.setGroupMembers('operators', ['bob']);
    assert.equal(engine.isAllowed('alice', DELETE, MACHINE), false);
    assert.equal(engine.isAllowed('bob', DELETE, MACHINE), true);
    engine.setGroupMembers('operators', []);
    assert.equal(engine.isAllowed('bob', DELETE, MACHINE), false);
  });

  void it('follows nested groups transitively', () => {
    const engine = engineWithGroupRole();
    engine.setGroupMembers('operators', ['team-a']);
    engine.setGroupMembers('team-a', ['squad-1']);
    engine.setGroupMembers('squad-1', ['alice']);
    assert.equal(engine.isAllowed('alice', DELETE, MACHINE), true);
    assert.equal(engine.isAllowed('squad-1', DELETE, MACHINE), true);
    engine.setGroupMembers('team-a', []);
    assert.equal(
      engine.isAllowed('alice', DELETE, MACHINE),
      false,
      'cutting a link in the chain ends access',
    );
  });

  void it('follows a long chain of nested groups', () => {
    const engine = engineWithGroupRole();
    const chain = Array.from({ length: 60 }, (_, i) => `g${i}`);
    engine.setGroupMembers('operators', [chain[0] ?? '']);
    chain.forEach((group, i) => engine.setGroupMembers(group, [chain[i + 1] ?? 'alice']));
    assert.equal(engine.isAllowed('alice', DELETE, MACHINE), true);
  });

  void it('terminates on a membership cycle and grants only what the cycle holds', () => {
    const engine = engineWithGroupRole();
    engine.setGroupMembers('operators', ['auditors']);
    engine.setGroupMembers('auditors', ['operators', 'alice']);
    engine.setGroupMembers('loners', ['loners', 'bob']);
    assert.equal(engine.isAllowed('alice', DELETE, MACHINE), true);
    assert.equal(engine.isAllowed('auditors', DELETE, MACHINE), true);
    assert.equal(engine.isAllowed('bob', DELETE, MACHINE), false);
    assert.equal(engine.isAllowed('loners', DELETE, MACHINE), false);
    const lines = engine.accessAt(MACHINE).map((e) => `${e.principalId}<${e.viaGroup ?? '-'}`);
    assert.deepEqual(lines.sort(), ['alice<operators', 'auditors<operators', 'operators<-']);
  });

  void it('removing a group removes its assignments and its members access', () => {
    const engine = engineWithGroupRole();
    engine.putRoleAssignment({
      name: 'r',
      principalId: 'alice',
      principalType: 'User',
      roleDefinitionName: READER_ROLE_ID,
      scope: SUB,
    });
    engine.setGroupMembers('operators', ['alice']);
    engine.removePrincipal('operators');
    assert.equal(engine.isAllowed('alice', DELETE, MACHINE), false);
    assert.equal(engine.isAllowed('alice', READ, MACHINE), true);
    engine.putRoleAssignment({
      name: 'g2',
      principalId: 'operators',
      principalType: 'Group',
      roleDefinitionName: OWNER_ROLE_ID,
      scope: RG,
    });
    assert.equal(
      engine.isAllowed('alice', DELETE, MACHINE),
      false,
      'a recreated group starts empty',
    );
  });

  void it('removing a member takes it out of every group', () => {
    const engine = engineWithGroupRole();
    engine.setGroupMembers('operators', ['alice', 'bob']);
    engine.removePrincipal('alice');
    assert.equal(engine.isAllowed('alice', DELETE, MACHINE), false);
    assert.equal(engine.isAllowed('bob', DELETE, MACHINE), true);
    assert.deepEqual(
      engine.accessAt(MACHINE).map((e) => e.principalId),
      ['operators', 'bob'],
    );
  });

  void it('refuses a bad member list without changing the group', () => {
    const engine = engineWithGroupRole();
    engine.setGroupMembers('operators', ['alice']);
    assert.throws(() => engine.setGroupMembers('operators', ['bob', '']), {
      code: 'ERR_INVALID_PRINCIPAL',
      message: /memberId/,
    });
    assert.throws(() => engine.setGroupMembers('operators', 'bob' as unknown as string[]), {
      code: 'ERR_INVALID_PRINCIPAL',
    });
    assert.throws(() => engine.setGroupMembers('a/b', ['bob']), {
      code: 'ERR_INVALID_PRINCIPAL',
      message: /groupId "a\/b"/,
    });
    assert.equal(engine.isAllowed('alice', DELETE, MACHINE), true);
    assert.equal(engine.isAllowed('bob', DELETE, MACHINE), false);
  });
});
