// The Microsoft.Authorization/roleAssignments resource: the PUT body ARM clients send, and the
// shape @azure/arm-authorization reads back.
import { ArmError } from '../api/arm-error.js';
import type { PrincipalType } from '../rbac/types.js';
import {
  asObject,
  field,
  invalidContent,
  rejectUnknownFields,
  requiredString,
  type JsonObject,
} from '../resources/arm-request.js';
import { checkGuid } from '../resources/arm-names.js';
import type { ParsedScope } from '../resources/arm-scope.js';
import type { RoleAssignmentsTable } from '../store/schema.js';
import { parseRoleDefinitionId, roleDefinitionId } from './role-definition-id.js';

export const ROLE_ASSIGNMENT_TYPE = 'Microsoft.Authorization/roleAssignments';
const PRINCIPAL_TYPES: readonly PrincipalType[] = ['User', 'Group', 'ServicePrincipal'];

export interface RoleAssignmentPut {
  roleDefinitionName: string;
  principalId: string;
  principalType: PrincipalType | undefined;
}

export function parseRoleAssignmentPut(body: JsonObject, scope: ParsedScope): RoleAssignmentPut {
  rejectUnknownFields(body, ['properties', 'id', 'name', 'type'], '');
  const properties = asObject(field(body, 'properties'), 'properties');
  rejectUnknownFields(
    properties,
    [
      'roleDefinitionId',
      'principalId',
      'principalType',
      'description',
      'condition',
      'conditionVersion',
      'delegatedManagedIdentityResourceId',
      'scope',
    ],
    'properties',
  );
  for (const unsupported of [
    'condition',
    'conditionVersion',
    'delegatedManagedIdentityResourceId',
    'description',
  ]) {
    const value = field(properties, unsupported);
    if (value !== undefined && value !== null && value !== '') {
      throw invalidContent(
        `properties.${unsupported}`,
        unsupported.startsWith('condition')
          ? 'is not supported: Tether cannot enforce conditions, and granting without them would grant too much'
          : 'is not supported by Tether',
      );
    }
  }
  const givenScope = field(properties, 'scope');
  if (givenScope !== undefined && givenScope !== null) {
    if (
      typeof givenScope !== 'string' ||
      givenScope.toLowerCase().replace(/^\/\//, '/').replace(/\/+$/, '') !== scope.scope
    ) {
      throw invalidContent(
        'properties.scope',
        `must be the scope in the URL ('${scope.scope}') when given`,
      );
    }
  }
  const roleId = requiredString(
    properties,
    'roleDefinitionId',
    'properties.roleDefinitionId',
    1024,
  );
  const principalId = requiredString(properties, 'principalId', 'properties.principalId', 128);
  const principalType = field(properties, 'principalType');
  if (
    principalType !== undefined &&
    principalType !== null &&
    !PRINCIPAL_TYPES.includes(principalType as PrincipalType)
  ) {
    throw invalidContent(
      'properties.principalType',
      `must be one of ${PRINCIPAL_TYPES.join(', ')}`,
    );
  }
  return {
    roleDefinitionName: parseRoleDefinitionId(roleId, scope, 'properties.roleDefinitionId'),
    principalId: checkGuid(principalId, 'properties.principalId', 'InvalidRequestContent'),
    principalType: (principalType ?? undefined) as PrincipalType | undefined,
  };
}

export function roleAssignmentId(scope: string, name: string): string {
  return `${scope === '/' ? '' : scope}/providers/${ROLE_ASSIGNMENT_TYPE}/${name}`;
}

export function renderRoleAssignment(row: RoleAssignmentsTable): JsonObject {
  return {
    id: roleAssignmentId(row.scope, row.name),
    type: ROLE_ASSIGNMENT_TYPE,
    name: row.name,
    properties: {
      roleDefinitionId: roleDefinitionId(row.scope, row.role_definition_name),
      principalId: row.principal_id,
      principalType: row.principal_type,
      scope: row.scope,
      createdOn: row.created_at,
      updatedOn: row.created_at,
      createdBy: row.created_by,
      updatedBy: row.created_by,
    },
  };
}

export function assignmentNotFound(name: string): ArmError {
  return new ArmError('RoleAssignmentNotFound', `The role assignment '${name}' is not found.`);
}
