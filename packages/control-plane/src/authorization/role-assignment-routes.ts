// `/{scope}/providers/Microsoft.Authorization/roleAssignments[/{name}]` at every scope depth:
// list (with atScope(), principalId and assignedTo() filters), get, create and delete.
import { ArmError } from '../api/arm-error.js';
import type { RouteSpec } from '../api/route-spec.js';
import { checkGuid } from '../resources/arm-names.js';
import { DEFAULT_PAGE_SIZE, nextLinkFor, pageOf, skipTokenOf } from '../resources/arm-paging.js';
import { bodyObject, param, queryValue } from '../resources/arm-request.js';
import type { ArmServices } from '../resources/arm-routes.js';
import { requireScopeExists } from '../resources/arm-scope.js';
import { parseAssignmentFilter } from './role-assignment-filter.js';
import {
  assignmentNotFound,
  parseRoleAssignmentPut,
  renderRoleAssignment,
  roleAssignmentId,
} from './role-assignment-resource.js';
import { RoleAssignmentStore } from './role-assignment-store.js';
import { atEveryScope, scopeAt, scopeOf } from './scoped-routes.js';

export const AUTHORIZATION_API_VERSIONS = [
  '2015-07-01',
  '2018-01-01-preview',
  '2020-04-01-preview',
  '2022-04-01',
] as const;

export const ROLE_ASSIGNMENT_ACTIONS = {
  read: 'Microsoft.Authorization/roleAssignments/read',
  write: 'Microsoft.Authorization/roleAssignments/write',
  delete: 'Microsoft.Authorization/roleAssignments/delete',
} as const;

const LIST = '/providers/Microsoft.Authorization/roleAssignments';
const ONE = `${LIST}/:roleAssignmentName`;

export function roleAssignmentRoutes(services: ArmServices): RouteSpec[] {
  const { db, authorizer, clock } = services;
  const store = new RoleAssignmentStore(db, authorizer);
  const pageSize = services.pageSize ?? DEFAULT_PAGE_SIZE;
  const common = { apiVersions: AUTHORIZATION_API_VERSIONS };

  return [
    ...atEveryScope(LIST, {
      ...common,
      method: 'GET',
      access: { kind: 'action', action: ROLE_ASSIGNMENT_ACTIONS.read, scope: scopeAt },
      async handler({ request }) {
        const scope = scopeOf(request);
        const filter = parseAssignmentFilter(queryValue(request, '$filter'));
        await requireScopeExists(db, scope, { resourceMustBeKnown: false });
        const rows = await store.list(scope, filter, skipTokenOf(request), pageSize + 1);
        return pageOf(
          rows,
          pageSize,
          (r) => r.name,
          renderRoleAssignment,
          (token) => nextLinkFor(services.publicUrl, request, token),
        );
      },
    }),
    ...atEveryScope(ONE, {
      ...common,
      method: 'GET',
      access: { kind: 'action', action: ROLE_ASSIGNMENT_ACTIONS.read, scope: scopeAt },
      async handler({ request }) {
        const scope = scopeOf(request);
        const name = checkGuid(param(request, 'roleAssignmentName'), 'roleAssignmentName');
        await requireScopeExists(db, scope, { resourceMustBeKnown: false });
        const row = await store.get(name);
        if (row === undefined || row.scope !== scope.scope) throw assignmentNotFound(name);
        return renderRoleAssignment(row);
      },
    }),
    ...atEveryScope(ONE, {
      ...common,
      method: 'PUT',
      access: { kind: 'action', action: ROLE_ASSIGNMENT_ACTIONS.write, scope: scopeAt },
      async handler({ request, reply, caller }) {
        const scope = scopeOf(request);
        const name = checkGuid(param(request, 'roleAssignmentName'), 'roleAssignmentName');
        const put = parseRoleAssignmentPut(bodyObject(request), scope);
        await requireScopeExists(db, scope);
        // The object id, or a service principal's appId as clients pass it when they know
        // only the application (`az role assignment create --assignee <appId>`).
        const given = put.principalId.toLowerCase();
        const principal = await db
          .selectFrom('principals')
          .select(['id', 'type'])
          .where((eb) =>
            eb.or([
              eb('id', '=', given),
              eb.and([eb('type', '=', 'ServicePrincipal'), eb('app_id', '=', given)]),
            ]),
          )
          .executeTakeFirst();
        if (principal === undefined) {
          throw new ArmError(
            'PrincipalNotFound',
            `Principal ${put.principalId} does not exist in the directory. Create it first (service principals, users and groups are under /v1.0).`,
            { target: 'properties.principalId' },
          );
        }
        if (put.principalType !== undefined && put.principalType !== principal.type) {
          throw new ArmError(
            'InvalidRequestContent',
            `The request content is invalid: 'properties.principalType' is '${put.principalType}', but principal ${put.principalId} is a ${principal.type}.`,
            { target: 'properties.principalType' },
          );
        }
        const principalId = principal.id;
        const role = authorizer.getRoleDefinition(put.roleDefinitionName);
        if (role === undefined) {
          throw new ArmError(
            'RoleDefinitionDoesNotExist',
            `The specified role definition with ID '${put.roleDefinitionName}' does not exist.`,
            { target: 'properties.roleDefinitionId' },
          );
        }
        if (!authorizer.isAssignable(put.roleDefinitionName, scope.scope)) {
          throw new ArmError(
            'InvalidScope',
            `The role '${role.roleName}' cannot be assigned at scope '${scope.scope}'; its assignable scopes are ${role.assignableScopes.join(', ')}.`,
            { target: 'scope' },
          );
        }
        const existing = await store.get(name);
        if (existing !== undefined) {
          const same =
            existing.scope === scope.scope &&
            existing.principal_id === principalId &&
            existing.role_definition_name === put.roleDefinitionName;
          if (same) return renderRoleAssignment(existing);
          throw new ArmError(
            'RoleAssignmentUpdateNotPermitted',
            `Tenant ID, application ID, principal ID, and scope are not allowed to be updated: role assignment '${name}' already exists with other values. Delete it first or use a new name.`,
          );
        }
        const duplicate = await store.findSame(scope.scope, put.roleDefinitionName, principalId);
        if (duplicate !== undefined) throw assignmentExists(duplicate.scope, duplicate.name);
        const now = new Date(clock.now()).toISOString();
        const created = await store.create({
          name,
          scope: scope.scope,
          role_definition_name: put.roleDefinitionName,
          principal_id: principalId,
          principal_type: principal.type,
          created_at: now,
          created_by: caller?.principalId ?? '',
        });
        if (!created) throw assignmentExists(scope.scope, name);
        void reply.code(201);
        const row = await store.get(name);
        if (row === undefined) throw assignmentNotFound(name);
        return renderRoleAssignment(row);
      },
    }),
    ...atEveryScope(ONE, {
      ...common,
      method: 'DELETE',
      access: { kind: 'action', action: ROLE_ASSIGNMENT_ACTIONS.delete, scope: scopeAt },
      async handler({ request, reply }) {
        const scope = scopeOf(request);
        const name = checkGuid(param(request, 'roleAssignmentName'), 'roleAssignmentName');
        const row = await store.get(name);
        if (row === undefined || row.scope !== scope.scope) {
          void reply.code(204);
          return undefined;
        }
        await store.delete(name);
        return renderRoleAssignment(row);
      },
    }),
  ];
}

function assignmentExists(scope: string, name: string): ArmError {
  return new ArmError(
    'RoleAssignmentExists',
    `The role assignment already exists. The ID of the existing role assignment is ${roleAssignmentId(scope, name)}.`,
  );
}
