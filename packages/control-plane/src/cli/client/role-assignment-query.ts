// Finds role assignments around a scope, then keeps those the command asked about: at the
// scope, also above it (inherited), at or below it, or all the control plane returned.
import type { ApiClient } from './api-client.js';
import { API_VERSIONS } from './api-versions.js';
import { odataString } from './odata.js';
import { roleAssignmentsPath, roleGuidOf } from './role-assignments.js';
import { isSameOrAncestorScope, sameScope } from './scope.js';
import type { ArmRoleAssignment } from './wire-types.js';

export type ScopeMatch = 'exact' | 'inherited' | 'subtree' | 'all';

export interface AssignmentQuery {
  scope: string;
  match: ScopeMatch;
  principalId?: string;
  roleGuid?: string;
}

export async function findAssignments(
  client: ApiClient,
  query: AssignmentQuery,
): Promise<ArmRoleAssignment[]> {
  const filter =
    query.principalId !== undefined
      ? `principalId eq ${odataString(query.principalId)}`
      : query.match === 'exact' || query.match === 'inherited'
        ? 'atScope()'
        : undefined;
  const found = await client.list<ArmRoleAssignment>(roleAssignmentsPath(query.scope), {
    'api-version': API_VERSIONS.authorization,
    ...(filter === undefined ? {} : { $filter: filter }),
  });
  return found.filter((assignment) => {
    const at = assignment.properties.scope;
    const inScope =
      query.match === 'all' ||
      (query.match === 'exact' && sameScope(at, query.scope)) ||
      (query.match === 'inherited' && isSameOrAncestorScope(at, query.scope)) ||
      (query.match === 'subtree' && isSameOrAncestorScope(query.scope, at));
    const principal =
      query.principalId === undefined ||
      assignment.properties.principalId.toLowerCase() === query.principalId.toLowerCase();
    const role =
      query.roleGuid === undefined ||
      roleGuidOf(assignment.properties.roleDefinitionId) === query.roleGuid.toLowerCase();
    return inScope && principal && role;
  });
}
