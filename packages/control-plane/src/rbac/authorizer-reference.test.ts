// The indexed Authorizer against a deliberately naive reference (scan everything, regular
// expressions, prefix ancestry) over a long random history of puts, removals, membership
// and role changes: any index left stale by a change shows up as a disagreement.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Authorizer } from './authorizer.js';
import { BUILT_IN_ROLES } from './built-in-roles.js';
import type { RoleAssignment, RoleDefinition } from './types.js';

const SUB = '/subscriptions/s1';
const SCOPES = [
  '/',
  SUB,
  `${SUB}/resourcegroups/rg1`,
  `${SUB}/resourcegroups/rg10`,
  `${SUB}/resourcegroups/rg1/providers/microsoft.hybridcompute/machines/m1`,
  `${SUB}/resourcegroups/rg1/providers/microsoft.hybridcompute/machines/m2`,
  `${SUB}/resourcegroups/rg10/providers/microsoft.hybridcompute/machines/m1`,
  `${SUB}/resourcegroups/rg1/providers/microsoft.hybridcompute/machines/m1/extensions/e1`,
  '/subscriptions/s2',
];
const ACTIONS = [
  'Microsoft.HybridCompute/machines/read',
  'Microsoft.HybridCompute/machines/delete',
  'Microsoft.HybridCompute/machines/extensions/write',
  'Microsoft.Authorization/roleAssignments/write',
  'Microsoft.Resources/subscriptions/resourceGroups/read',
];
const PRINCIPALS = ['u1', 'u2', 'u3', 'u4', 'g1', 'g2', 'g3'];
const CUSTOM_PATTERNS = [
  'Microsoft.HybridCompute/*',
  '*/read',
  '*/delete',
  'Microsoft.Authorization/*',
  '*',
];

/** What the engine is asked to hold, kept as plain data for the reference to scan. */
interface World {
  roles: Map<string, RoleDefinition>;
  assignments: Map<string, RoleAssignment>;
  members: Map<string, string[]>;
}

function referenceAllows(world: World, principal: string, action: string, scope: string): boolean {
  const holders = new Set([principal]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [group, members] of world.members) {
      if (!holders.has(group) && members.some((m) => holders.has(m))) {
        holders.add(group);
        grew = true;
      }
    }
  }
  const within = (s: string, ancestor: string): boolean =>
    ancestor === '/' || s === ancestor || s.startsWith(`${ancestor}/`);
  const matches = (pattern: string): boolean =>
    new RegExp(
      `^${pattern.replace(/[.+?^${}()|[\]\\/]/g, '\\$&').replace(/\*/g, '.*')}$`,
      'i',
    ).test(action);
  return [...world.assignments.values()].some((a) => {
    const role = world.roles.get(a.roleDefinitionName);
    return (
      role !== undefined &&
      holders.has(a.principalId) &&
      within(scope, a.scope) &&
      role.assignableScopes.some((s) => within(a.scope, s)) &&
      role.permissions.some((p) => p.actions.some(matches) && !p.notActions.some(matches))
    );
  });
}

function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 2 ** 32;
  };
}

void describe('Authorizer agrees with a naive reference', () => {
  void it('over a random history of 3,000 changes, checked after each', () => {
    const next = random(42);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
    const engine = new Authorizer();
    const world: World = {
      roles: new Map(BUILT_IN_ROLES.map((r) => [r.name, r])),
      assignments: new Map(),
      members: new Map(),
    };
    const roleIds = [...BUILT_IN_ROLES.map((r) => r.name), 'c1', 'c2', 'c3'];
    let checks = 0;
    let allowed = 0;
    for (let step = 0; step < 3000; step++) {
      const roll = next();
      if (roll < 0.45) {
        const assignment: RoleAssignment = {
          name: `a${Math.floor(next() * 40)}`,
          scope: pick(SCOPES),
          roleDefinitionName: pick(roleIds),
          principalId: pick(PRINCIPALS),
          principalType: 'User',
        };
        engine.putRoleAssignment(assignment);
        world.assignments.set(assignment.name, assignment);
      } else if (roll < 0.6) {
        const name = `a${Math.floor(next() * 40)}`;
        engine.removeRoleAssignment(name);
        world.assignments.delete(name);
      } else if (roll < 0.75) {
        const group = pick(['g1', 'g2', 'g3']);
        const members = PRINCIPALS.filter(() => next() < 0.3);
        engine.setGroupMembers(group, members);
        world.members.set(group, members);
      } else if (roll < 0.85) {
        const name = pick(['c1', 'c2', 'c3']);
        const role: RoleDefinition = {
          name,
          roleName: name,
          description: '',
          roleType: 'CustomRole',
          permissions: [
            {
              actions: [pick(CUSTOM_PATTERNS)],
              notActions: next() < 0.5 ? [pick(CUSTOM_PATTERNS)] : [],
              dataActions: [],
              notDataActions: [],
            },
          ],
          assignableScopes: [pick(SCOPES.slice(0, 4))],
        };
        engine.putRoleDefinition(role);
        world.roles.set(name, role);
      } else if (roll < 0.9) {
        const name = pick(['c1', 'c2', 'c3']);
        engine.removeRoleDefinition(name);
        world.roles.delete(name);
      } else if (roll < 0.93) {
        const principal = pick(PRINCIPALS);
        engine.removePrincipal(principal);
        for (const [name, a] of world.assignments)
          if (a.principalId === principal) world.assignments.delete(name);
        world.members.delete(principal);
        for (const [group, members] of world.members)
          world.members.set(
            group,
            members.filter((m) => m !== principal),
          );
      }
      for (let k = 0; k < 5; k++) {
        const [principal, action, scope] = [pick(PRINCIPALS), pick(ACTIONS), pick(SCOPES)];
        const expected = referenceAllows(world, principal, action, scope);
        assert.equal(
          engine.isAllowed(principal, action, scope),
          expected,
          `step ${step}: ${principal} ${action} at ${scope}`,
        );
        checks++;
        if (expected) allowed++;
      }
    }
    // The history must exercise both answers, or agreeing would prove little.
    assert.ok(allowed > checks * 0.1 && allowed < checks * 0.9, `${allowed} of ${checks} allowed`);
  });
});
