// The in-memory authorization engine: built-in and custom roles, assignments indexed by
// principal and by scope, group membership; answers every permission check in process.
import { BUILT_IN_ROLES } from './built-in-roles.js';
import { CompiledRole } from './compiled-role.js';
import { GroupIndex } from './group-index.js';
import { checkId, checkPrincipalType, idKey } from './principal-id.js';
import { RbacError } from './rbac-error.js';
import { validateRoleAssignment } from './role-assignment-input.js';
import { isWithinScope, normalizeScope, scopeAndAncestors } from './scope.js';
import type {
  AccessEntry,
  AuthorizationEngine,
  Permission,
  PrincipalType,
  RoleAssignment,
  RoleDefinition,
} from './types.js';

/** Whoever may write extensions can run code as root on the machine: an indirect administrator (S2). */
export const INDIRECT_ADMINISTRATOR_ACTION = 'Microsoft.HybridCompute/machines/extensions/write';

const BUILT_IN_KEYS: ReadonlySet<string> = new Set(BUILT_IN_ROLES.map((r) => idKey(r.name)));

interface StoredAssignment {
  readonly assignment: Readonly<RoleAssignment>;
  readonly principalKey: string;
  readonly roleKey: string;
}

/**
 * Assignments whose role is missing (a dangling reference) or whose scope the role may not
 * be assigned at are kept but grant nothing: the engine fails closed rather than trusting
 * the caller to have kept the two in step.
 */
export class Authorizer implements AuthorizationEngine {
  private readonly roles = new Map<string, CompiledRole>();
  private readonly assignments = new Map<string, StoredAssignment>();
  private readonly byPrincipal = new Map<string, StoredAssignment[]>();
  private readonly byScope = new Map<string, StoredAssignment[]>();
  private readonly groups = new GroupIndex();
  private readonly principalTypes = new Map<string, PrincipalType>();

  constructor() {
    for (const role of BUILT_IN_ROLES) this.roles.set(idKey(role.name), CompiledRole.compile(role));
  }

  /** Built-in roles come from code: putting one is accepted only if it is unchanged. */
  putRoleDefinition(definition: RoleDefinition): void {
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
    this.roles.set(key, role);
  }

  removeRoleDefinition(name: string): void {
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
    return typeof name === 'string' ? this.roles.get(idKey(name))?.definition : undefined;
  }

  putRoleAssignment(input: RoleAssignment): void {
    const assignment = validateRoleAssignment(input);
    this.removeRoleAssignment(assignment.name);
    const stored = {
      assignment,
      principalKey: idKey(assignment.principalId),
      roleKey: idKey(assignment.roleDefinitionName),
    };
    this.assignments.set(idKey(assignment.name), stored);
    append(this.byPrincipal, stored.principalKey, stored);
    append(this.byScope, assignment.scope, stored);
  }

  removeRoleAssignment(name: string): void {
    const stored = this.assignments.get(
      idKey(checkId(name, 'name', 'ERR_INVALID_ROLE_ASSIGNMENT')),
    );
    if (stored === undefined) return;
    this.assignments.delete(idKey(stored.assignment.name));
    detach(this.byPrincipal, stored.principalKey, stored);
    detach(this.byScope, stored.assignment.scope, stored);
  }

  setGroupMembers(groupId: string, memberIds: readonly string[]): void {
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
    const key = idKey(checkId(principalId, 'principalId', 'ERR_INVALID_PRINCIPAL'));
    for (const stored of [...(this.byPrincipal.get(key) ?? [])])
      this.removeRoleAssignment(stored.assignment.name);
    this.groups.removePrincipal(key);
    this.principalTypes.delete(key);
  }

  putPrincipal(principalId: string, principalType: PrincipalType): void {
    const key = idKey(checkId(principalId, 'principalId', 'ERR_INVALID_PRINCIPAL'));
    this.principalTypes.set(key, checkPrincipalType(principalType, 'ERR_INVALID_PRINCIPAL'));
  }

  isAssignable(roleDefinitionName: string, scope: string): boolean {
    const target = normalizeScope(scope);
    if (typeof roleDefinitionName !== 'string') return false;
    return this.roles.get(idKey(roleDefinitionName))?.isAssignableAt(target) === true;
  }

  /** Throws ERR_INVALID_SCOPE for a malformed scope; any other doubt is a denial. */
  isAllowed(principalId: string, action: string, scope: string): boolean {
    const target = normalizeScope(scope);
    if (typeof principalId !== 'string' || typeof action !== 'string' || action.length === 0)
      return false;
    const key = idKey(principalId);
    if (this.grants(key, action, target)) return true;
    for (const group of this.groups.groupsOf(key))
      if (this.grants(group, action, target)) return true;
    return false;
  }

  permissionsAt(principalId: string, scope: string): Permission[] {
    const target = normalizeScope(scope);
    const key = idKey(checkId(principalId, 'principalId', 'ERR_INVALID_PRINCIPAL'));
    const reached = new Map<string, CompiledRole>();
    for (const holder of [key, ...this.groups.groupsOf(key)]) {
      for (const stored of this.byPrincipal.get(holder) ?? []) {
        const role = this.effectiveRole(stored, target);
        if (role !== undefined) reached.set(stored.roleKey, role);
      }
    }
    return [...reached.values()].flatMap((role) => structuredClone(role.definition.permissions));
  }

  /** One entry per (principal, assignment) reaching the scope, groups expanded to their members. */
  accessAt(scope: string): AccessEntry[] {
    const target = normalizeScope(scope);
    const entries: AccessEntry[] = [];
    for (const at of scopeAndAncestors(target)) {
      for (const { assignment, principalKey, roleKey } of this.byScope.get(at) ?? []) {
        const role = this.roles.get(roleKey);
        if (role === undefined || !role.isAssignableAt(assignment.scope)) continue;
        const line = {
          roleDefinitionName: role.definition.name,
          roleName: role.definition.roleName,
          assignmentName: assignment.name,
          assignedAt: assignment.scope,
          inherited: at !== target,
          indirectAdministrator: role.allows(INDIRECT_ADMINISTRATOR_ACTION),
        };
        const { principalId, principalType } = assignment;
        entries.push({ principalId, principalType, viaGroup: undefined, ...line });
        for (const [memberKey, memberId] of this.groups.membersOf(principalKey)) {
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

  private grants(principalKey: string, action: string, target: string): boolean {
    for (const stored of this.byPrincipal.get(principalKey) ?? NO_ASSIGNMENTS) {
      if (this.effectiveRole(stored, target)?.allows(action) === true) return true;
    }
    return false;
  }

  /** The role an assignment brings at `target`, if it reaches it and is not dangling. */
  private effectiveRole(stored: StoredAssignment, target: string): CompiledRole | undefined {
    if (!isWithinScope(target, stored.assignment.scope)) return undefined;
    const role = this.roles.get(stored.roleKey);
    return role?.isAssignableAt(stored.assignment.scope) === true ? role : undefined;
  }

  private typeOf(key: string): PrincipalType {
    const known = this.principalTypes.get(key);
    if (known !== undefined) return known;
    if (this.groups.isGroup(key)) return 'Group';
    return this.byPrincipal.get(key)?.[0]?.assignment.principalType ?? 'User';
  }
}

const NO_ASSIGNMENTS: readonly StoredAssignment[] = Object.freeze([]);

function append<K, V>(index: Map<K, V[]>, key: K, value: V): void {
  const list = index.get(key);
  if (list === undefined) index.set(key, [value]);
  else list.push(value);
}

function detach<K, V>(index: Map<K, V[]>, key: K, value: V): void {
  const rest = (index.get(key) ?? []).filter((v) => v !== value);
  if (rest.length === 0) index.delete(key);
  else index.set(key, rest);
}

function sameDefinition(a: RoleDefinition, b: RoleDefinition): boolean {
  const canonical = (d: RoleDefinition): string => JSON.stringify({ ...d, name: idKey(d.name) });
  return canonical(a) === canonical(b);
}
