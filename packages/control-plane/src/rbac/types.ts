// The contract between the HTTP layer and the authorization engine: role definitions,
// role assignments and the questions the API asks of them.

export interface Permission {
  actions: string[];
  notActions: string[];
  dataActions: string[];
  notDataActions: string[];
}

export interface RoleDefinition {
  /** The role's GUID (the last segment of its ARM id). */
  name: string;
  roleName: string;
  description: string;
  roleType: 'BuiltInRole' | 'CustomRole';
  permissions: Permission[];
  /** Normalized scopes ('/', '/subscriptions/…', …) where the role may be assigned. */
  assignableScopes: string[];
}

export type PrincipalType = 'User' | 'Group' | 'ServicePrincipal';

export interface RoleAssignment {
  /** The assignment's GUID. */
  name: string;
  /** Normalized scope: lower case, no trailing slash, '/' for the tenant root. */
  scope: string;
  /** GUID of the role definition. */
  roleDefinitionName: string;
  principalId: string;
  principalType: PrincipalType;
}

/** One line of "who has access" at a scope. */
export interface AccessEntry {
  principalId: string;
  principalType: PrincipalType;
  roleDefinitionName: string;
  roleName: string;
  assignmentName: string;
  /** Scope the assignment was made at. */
  assignedAt: string;
  /** True when assignedAt is an ancestor of the scope asked about. */
  inherited: boolean;
  /** Group whose membership brings this entry, when it does. */
  viaGroup: string | undefined;
  /** The role grants Microsoft.HybridCompute/machines/extensions/write here (S2). */
  indirectAdministrator: boolean;
}

/** What the API layer needs from the authorization engine; kept in memory, fed from the store. */
export interface AuthorizationEngine {
  putRoleDefinition(definition: RoleDefinition): void;
  removeRoleDefinition(name: string): void;
  getRoleDefinition(name: string): RoleDefinition | undefined;
  putRoleAssignment(assignment: RoleAssignment): void;
  removeRoleAssignment(name: string): void;
  /** Replaces the members of a principal group (members may be any principal type). */
  setGroupMembers(groupId: string, memberIds: readonly string[]): void;
  /** Removes a principal everywhere: its assignments and group memberships. */
  removePrincipal(principalId: string): void;
  /**
   * Records a principal's type, so that group members listed by accessAt carry the right
   * one. Without it a member's type is inferred (a group with members, else the type of its
   * own assignments, else 'User').
   */
  putPrincipal(principalId: string, principalType: PrincipalType): void;
  /** Whether the role exists and lists `scope` (or an ancestor) among its assignableScopes. */
  isAssignable(roleDefinitionName: string, scope: string): boolean;
  /** Default deny; assignments are inherited downward and through group membership. */
  isAllowed(principalId: string, action: string, scope: string): boolean;
  /** The caller's effective permissions at a scope (Microsoft.Authorization/permissions). */
  permissionsAt(principalId: string, scope: string): Permission[];
  accessAt(scope: string): AccessEntry[];
  /** Whether the role (built in or custom) grants `action`; false for an unknown role. */
  roleAllows(roleDefinitionName: string, action: string): boolean;
  /**
   * Moves on with every change of what the engine holds (roles, assignments, groups,
   * principals, a reload): an answer of isAllowed holds for as long as this has not moved.
   * Engines without it are asked every time.
   */
  readonly version?: number;
}
