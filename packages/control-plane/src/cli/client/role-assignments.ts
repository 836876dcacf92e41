// Role assignments as the CLI writes and shows them: PUT with a fresh GUID, and the flattened
// shape `az role assignment` prints (properties lifted, role and principal names added).
import { randomUUID } from 'node:crypto';
import type { ApiClient } from './api-client.js';
import { API_VERSIONS } from './api-versions.js';
import { scopePath } from './scope.js';
import type { ArmRoleAssignment, PrincipalType } from './wire-types.js';

export interface FlatRoleAssignment {
  id: string;
  name: string;
  type: string;
  scope: string;
  roleDefinitionId: string;
  roleDefinitionName?: string;
  principalId: string;
  principalType?: PrincipalType;
  principalName?: string;
  [more: string]: unknown;
}

export function roleAssignmentsPath(scope: string): string {
  return `${scopePath(scope)}/providers/Microsoft.Authorization/roleAssignments`;
}

export async function assignRole(
  client: ApiClient,
  assignment: {
    scope: string;
    roleDefinitionId: string;
    principalId: string;
    principalType: PrincipalType;
  },
): Promise<ArmRoleAssignment> {
  return client.put<ArmRoleAssignment>(
    `${roleAssignmentsPath(assignment.scope)}/${randomUUID()}`,
    {
      properties: {
        roleDefinitionId: assignment.roleDefinitionId,
        principalId: assignment.principalId,
        principalType: assignment.principalType,
      },
    },
    { query: { 'api-version': API_VERSIONS.authorization } },
  );
}

export function flattenAssignment(
  assignment: ArmRoleAssignment,
  names: { role?: string; principal?: string } = {},
): FlatRoleAssignment {
  const { properties, ...resource } = assignment;
  return {
    ...properties,
    id: resource.id,
    name: resource.name,
    type: resource.type ?? 'Microsoft.Authorization/roleAssignments',
    ...(names.role === undefined ? {} : { roleDefinitionName: names.role }),
    ...(names.principal === undefined ? {} : { principalName: names.principal }),
  };
}

/** The GUID at the end of a role definition id. */
export function roleGuidOf(roleDefinitionId: string): string {
  return (roleDefinitionId.split('/').pop() ?? '').toLowerCase();
}
