// Checks a role assignment handed to the engine and returns its canonical, frozen form
// (normalized scope), so that bad input is refused before anything is indexed.
import { checkId, checkPrincipalType } from './principal-id.js';
import { RbacError } from './rbac-error.js';
import { normalizeScope } from './scope.js';
import type { RoleAssignment } from './types.js';

export function validateRoleAssignment(input: RoleAssignment): Readonly<RoleAssignment> {
  const code = 'ERR_INVALID_ROLE_ASSIGNMENT';
  if (typeof input !== 'object' || input === null) {
    throw new RbacError(code, 'a role assignment must be an object', { target: 'body' });
  }
  return Object.freeze({
    name: checkId(input.name, 'name', code),
    scope: normalizeScope(input.scope),
    roleDefinitionName: checkId(input.roleDefinitionName, 'roleDefinitionName', code),
    principalId: checkId(input.principalId, 'principalId', code),
    principalType: checkPrincipalType(input.principalType, code),
  });
}
