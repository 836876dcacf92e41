// The in-memory authorization engine: built-in and custom roles, assignments indexed by
// principal and by scope, group membership; answers every permission check in process.
import type { StoredAssignment } from './assignment-index.js';
import { AssignmentIndex } from './assignment-index.js';
import { BUILT_IN_ROLES } from './built-in-roles.js';
import { CompiledRole } from './compiled-role.js';
import { GroupIndex } from './group-index.js';
import { checkId, checkPrincipalType, idKey } from './principal-id.js';
import { RbacError } from './rbac-error.js';
import { RoleTable } from './role-table.js';
import { validateRoleAssignment } from './role-assignment-input.js';
import type { ScopeChain } from './scope-chain-cache.js';
import { ScopeChainCache } from './scope-chain-cache.js';
import type {
  AccessEntry,
  AuthorizationEngine,
  Permission,
  PrincipalType,
  RoleAssignment,
  RoleDefinition,
} from './types.js';

/** Whoever may write extensions can run code as root on the machine: an indirect administrator (S2). */
/**
 * Whoever may do one of these runs code as root on the servers in scope: deploy an extension,
 * write a guest configuration assignment (which can remediate), or assign a policy (which makes
 * such assignments).
 */
export const INDIRECT_ADMINISTRATOR_ACTIONS = [
  'Microsoft.HybridCompute/machines/extensions/write',
  'Microsoft.GuestConfiguration/guestConfigurationAssignments/write',
  'Microsoft.Authorization/policyAssignments/write',
] as const;

const BUILT_IN_KEYS: ReadonlySet<string> = new Set(BUILT_IN_ROLES.map((r) => idKey(r.name)));

/**
 * Assignments whose role is missing (a dangling reference) or whose scope the role may not
 * be assigned at are kept but grant nothing: the engine fails closed rather than trusting
 * the caller to have kept the two in step.
 */
export class Authorizer implements AuthorizationEngine {
  private roles = new RoleTable();
  private assignments = new AssignmentIndex();
  private groups = new GroupIndex();
  private principalTypes = new Map<string, PrincipalType>();
  private scopes = new ScopeChainCache();
  #version = 0;

  constructor() {
    for (const role of BUILT_IN_ROLES) this.roles.set(CompiledRole.compile(role));
  }

  /** See AuthorizationEngine.version. */
  get version(): number {
    return this.#version;
  }

  /**
   * Takes over everything `loaded` holds, at once: another process sharing the database changed
   * it, and `loaded` was read back from there. `loaded` must not be used afterwards.
   */
  replaceState(loaded: Authorizer): void {
    this.#version++;
    this.roles = loaded.roles;
    this.assignments = loaded.assignments;
    this.groups = loaded.groups;
    this.principalTypes = loaded.principalTypes;
    this.scopes = loaded.scopes;
  }

  /** Built-in roles come from code: putting one is accepted only if it is unchanged. */
  putRoleDefinition(definition: RoleDefinition): void {
    this.#version++;
    const role = CompiledRole.compile(definition);
    const key = idKey(role.definition.name);
    if (BUILT_IN_KEYS.has(key)) {
      const current = this.roles.get(key)?.definition;
      if (current !== undefined && sameDefinition(current, role.definition)) return;
      throw new RbacError(
        'ERR_BUILT_IN_ROLE_READ_ONLY',
        `role definition ${role.definition.name} is the built-in role "${current?.roleName ?? ''}" and cannot be changed; create a custom role with a new id instead`,
        { target: 'name' },
      );
    }
    if (role.definition.roleType !== 'CustomRole') {
      throw new RbacError(
        'ERR_INVALID_ROLE_DEFINITION',
        `role definition ${role.definition.name}: roleType must be "CustomRole"; only Tether's own roles are built in`,
        { target: 'roleType' },
      );
    }
    this.roles.set(role);
  }

  removeRoleDefinition(name: string): void {
    this.#version++;
    const key = idKey(checkId(name, 'roleDefinitionName', 'ERR_INVALID_ROLE_DEFINITION'));
    if (BUILT_IN_KEYS.has(key)) {
      throw new RbacError(
        'ERR_BUILT_IN_ROLE_READ_ONLY',
        `role definition ${name} is built in and cannot be removed`,
        {
          target: 'name',
        },
      );
    }
    this.roles.delete(key);
  }

  getRoleDefinition(name: string): RoleDefinition | undefined {
    return typeof name === 'string' ? this.roles.get(name)?.definition : undefined;
  }

  putRoleAssignment(input: RoleAssignment): void {
    this.#version++;
    const assignment = validateRoleAssignment(input);
    this.assignments.put(assignment, this.roles.slotOf(assignment.roleDefinitionName));
  }

  removeRoleAssignment(name: string): void {
    this.#version++;
    this.assignments.remove(checkId(name, 'name', 'ERR_INVALID_ROLE_ASSIGNMENT'));
  }

  setGroupMembers(groupId: string, memberIds: readonly string[]): void {
    this.#version++;
    const group = checkId(groupId, 'groupId', 'ERR_INVALID_PRINCIPAL');
    if (!Array.isArray(memberIds)) {
      throw new RbacError('ERR_INVALID_PRINCIPAL', 'memberIds must be an array of principal ids', {
        target: 'memberIds',
      });
    }
    const members = new Map<string, string>();
    for (const raw of memberIds as readonly unknown[]) {
      const id = checkId(raw, 'memberId', 'ERR_INVALID_PRINCIPAL');
      members.set(idKey(id), id);
    }
    this.groups.setMembers(idKey(group), members);
  }

  removePrincipal(principalId: string): void {
    this.#version++;
    const key = idKey(checkId(principalId, 'principalId', 'ERR_INVALID_PRINCIPAL'));
    for (const { assignment } of [...this.assignments.of(key)]) {
      this.assignments.remove(assignment.name);
    }
    this.groups.removePrincipal(key);
    this.principalTypes.delete(key);
  }

  putPrincipal(principalId: string, principalType: PrincipalType): void {
    this.#version++;
    const key = idKey(checkId(principalId, 'principalId', 'ERR_INVALID_PRINCIPAL'));
    this.principalTypes.set(key, checkPrincipalType(principalType, 'ERR_INVALID_PRINCIPAL'));
  }

  isAssignable(roleDefinitionName: string, scope: string): boolean {
    const target = this.scopes.get(scope).scope;
    if (typeof roleDefinitionName !== 'string') return false;
    return this.roles.get(roleDefinitionName)?.isAssignableAt(target) === true;
  }

  /** Throws ERR_INVALID_SCOPE for a malformed scope; any other doubt is a denial. */
  isAllowed(principalId: string, action: string, scope: string): boolean {
    const chain = this.heldIds(this.scopes.get(scope));
    if (typeof principalId !== 'string' || typeof action !== 'string' || action.length === 0) {
      return false;
    }
    if (chain.length === 0) return false;
    const key = idKey(principalId);
    if (this.grants(key, action, chain)) return true;
    for (const group of this.groups.groupsOf(key))
      if (this.grants(group, action, chain)) return true;
    return false;
  }

  permissionsAt(principalId: string, scope: string): Permission[] {
    const chain = this.scopes.get(scope).ancestors;
    const key = idKey(checkId(principalId, 'principalId', 'ERR_INVALID_PRINCIPAL'));
    const reached = new Map<string, CompiledRole>();
    for (const holder of [key, ...this.groups.groupsOf(key)]) {
      for (const stored of this.assignments.of(holder)) {
        const role = this.liveRole(stored);
        if (role !== undefined && chain.includes(stored.assignment.scope)) {
          reached.set(role.definition.name, role);
        }
      }
    }
    return [...reached.values()].flatMap((role) => structuredClone(role.definition.permissions));
  }

  /** One entry per (principal, assignment) reaching the scope, groups expanded to their members. */
  accessAt(scope: string): AccessEntry[] {
    const { scope: target, ancestors } = this.scopes.get(scope);
    const entries: AccessEntry[] = [];
    for (const at of ancestors) {
      for (const stored of this.assignments.at(at)) {
        const role = this.liveRole(stored);
        if (role === undefined) continue;
        const { assignment } = stored;
        const line = {
          roleDefinitionName: role.definition.name,
          roleName: role.definition.roleName,
          assignmentName: assignment.name,
          assignedAt: assignment.scope,
          inherited: at !== target,
          indirectAdministrator: INDIRECT_ADMINISTRATOR_ACTIONS.some((a) => role.allows(a)),
        };
        const { principalId, principalType } = assignment;
        entries.push({ principalId, principalType, viaGroup: undefined, ...line });
        for (const [memberKey, memberId] of this.groups.membersOf(stored.principalKey)) {
          entries.push({
            principalId: memberId,
            principalType: this.typeOf(memberKey),
            viaGroup: principalId,
            ...line,
          });
        }
      }
    }
    return entries;
  }

  roleAllows(roleDefinitionName: string, action: string): boolean {
    if (typeof roleDefinitionName !== 'string' || typeof action !== 'string') return false;
    return this.roles.get(roleDefinitionName)?.allows(action) === true;
  }

  /**
   * Only the scope and its few ancestors can hold a relevant assignment. Their ids, matched
   * against each principal's packed pairs, decide without touching assignment objects; they
   * are memoized on the cached chain until the set of assigned scopes changes.
   */
  private heldIds(chain: ScopeChain): readonly number[] {
    const generation = this.assignments.generation;
    if (chain.heldIds?.generation !== generation) {
      const ids: number[] = [];
      for (const at of chain.ancestors) {
        const id = this.assignments.scopeId(at);
        if (id !== undefined) ids.push(id);
      }
      chain.heldIds = { generation, ids };
    }
    return chain.heldIds.ids;
  }

  private grants(principalKey: string, action: string, chain: readonly number[]): boolean {
    const pairs = this.assignments.packedOf(principalKey);
    if (pairs === undefined) return false;
    for (let i = 0; i < pairs.length; i += 2) {
      if (!holds(chain, pairs[i] ?? -1)) continue;
      const role = this.roles.at(pairs[i + 1] ?? -1);
      if (role === undefined || !role.allows(action)) continue;
      const stored = this.assignments.of(principalKey)[i / 2];
      if (stored !== undefined && role.isAssignableAt(stored.assignment.scope)) return true;
    }
    return false;
  }

  /** The role an assignment brings, unless it is dangling or made where the role may not be. */
  private liveRole(stored: StoredAssignment): CompiledRole | undefined {
    const role = this.roles.at(stored.roleSlot);
    return role?.isAssignableAt(stored.assignment.scope) === true ? role : undefined;
  }

  private typeOf(key: string): PrincipalType {
    const known = this.principalTypes.get(key);
    if (known !== undefined) return known;
    if (this.groups.isGroup(key)) return 'Group';
    return this.assignments.of(key)[0]?.assignment.principalType ?? 'User';
  }
}

/** `includes` by hand: the chain is a handful of ids and this runs for every pair scanned. */
function holds(chain: readonly number[], id: number): boolean {
  for (let j = 0; j < chain.length; j++) if (chain[j] === id) return true;
  return false;
}

function sameDefinition(a: RoleDefinition, b: RoleDefinition): boolean {
  const canonical = (d: RoleDefinition): string => JSON.stringify({ ...d, name: idKey(d.name) });
  return canonical(a) === canonical(b);
}
