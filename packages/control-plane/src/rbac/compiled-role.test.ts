// A compiled role answers like its definition, however many distinct actions it is asked
// about, and keeps its memo of answers bounded.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CompiledRole, DECISION_CACHE_LIMIT } from './compiled-role.js';

const role = CompiledRole.compile({
  name: 'r1',
  roleName: 'Readers but not secrets',
  description: '',
  roleType: 'CustomRole',
  permissions: [
    { actions: ['*/read'], notActions: ['*/secrets/read'], dataActions: [], notDataActions: [] },
  ],
  assignableScopes: ['/subscriptions/s1/resourceGroups/RG', '/subscriptions/s2'],
});

void describe('CompiledRole', () => {
  void it('keeps answering correctly past the memo limit, and the memo stays bounded', () => {
    const asked = 3 * DECISION_CACHE_LIMIT;
    for (let i = 0; i < asked; i++) {
      const kind = i % 3 === 0 ? 'read' : i % 3 === 1 ? 'write' : 'secrets/read';
      assert.equal(role.allows(`Provider.N${i}/things/${kind}`), kind === 'read', `action ${i}`);
      assert.ok(role.decisionCacheSize <= DECISION_CACHE_LIMIT);
    }
    assert.equal(role.allows('Provider.N0/things/read'), true);
    assert.equal(role.allows('Provider.N2/things/secrets/read'), false);
  });

  void it('is assignable at its normalized assignable scopes and below only', () => {
    assert.deepEqual(role.definition.assignableScopes, [
      '/subscriptions/s1/resourcegroups/rg',
      '/subscriptions/s2',
    ]);
    assert.equal(
      role.isAssignableAt('/subscriptions/s1/resourcegroups/rg/providers/p/machines/m'),
      true,
    );
    assert.equal(role.isAssignableAt('/subscriptions/s2'), true);
    assert.equal(role.isAssignableAt('/subscriptions/s1'), false);
    assert.equal(role.isAssignableAt('/subscriptions/s1/resourcegroups/rg2'), false);
    assert.equal(role.isAssignableAt('/'), false);
  });
});
