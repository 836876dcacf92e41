// `/{scope}/providers/Microsoft.Authorization/roleDefinitions[/{id}]` at every scope depth:
// built-in and custom roles listed and read; custom roles created, changed and deleted.
import { ArmError } from '../api/arm-error.js';
import type { RouteContext, RouteSpec } from '../api/route-spec.js';
import { BUILT_IN_ROLES } from '../rbac/built-in-roles.js';
import { isWithinScope } from '../rbac/scope.js';
import type { RoleDefinition } from '../rbac/types.js';
import { checkGuid } from '../resources/arm-names.js';
import { DEFAULT_PAGE_SIZE, nextLinkFor, pageOf, skipTokenOf } from '../resources/arm-paging.js';
import { bodyObject, param, queryValue } from '../resources/arm-request.js';
import type { ArmServices } from '../resources/arm-routes.js';
import { requireScopeExists } from '../resources/arm-scope.js';
import { AUTHORIZATION_API_VERSIONS } from './role-assignment-routes.js';
import { RoleAssignmentStore } from './role-assignment-store.js';
import { matchesDefinitionFilter, parseDefinitionFilter } from './role-definition-filter.js';
import { parseCustomRolePut, renderRoleDefinition } from './role-definition-resource.js';
import { definitionOf, RoleDefinitionStore } from './role-definition-store.js';
import { atEveryScope, scopeAt, scopeOf } from './scoped-routes.js';

export const ROLE_DEFINITION_ACTIONS = {
  read: 'Microsoft.Authorization/roleDefinitions/read',
  write: 'Microsoft.Authorization/roleDefinitions/write',
  delete: 'Microsoft.Authorization/roleDefinitions/delete',
} as const;

const LIST = '/providers/Microsoft.Authorization/roleDefinitions';
const ONE = `${LIST}/:roleDefinitionId`;
const BUILT_IN_NAMES: ReadonlySet<string> = new Set(
  BUILT_IN_ROLES.map((r) => r.name.toLowerCase()),
);

export function roleDefinitionRoutes(services: ArmServices): RouteSpec[] {
  const { db, authorizer, clock } = services;
  const definitions = new RoleDefinitionStore(db, authorizer);
  const assignments = new RoleAssignmentStore(db, authorizer);
  const pageSize = services.pageSize ?? DEFAULT_PAGE_SIZE;
  const common = { apiVersions: AUTHORIZATION_API_VERSIONS };

  function nameOf(context: RouteContext): string {
    return checkGuid(param(context.request, 'roleDefinitionId'), 'roleDefinitionId');
  }

  function refuseBuiltIn(name: string): void {
    if (!BUILT_IN_NAMES.has(name)) return;
    const role = authorizer.getRoleDefinition(name);
    throw new ArmError(
      'BadRequest',
      `The role definition '${name}' is the built-in role '${role?.roleName ?? ''}'; built-in roles cannot be changed or deleted. Create a custom role with a new id instead.`,
      { target: 'roleDefinitionId' },
    );
  }

  return [
    ...atEveryScope(LIST, {
      ...common,
      method: 'GET',
      access: { kind: 'action', action: ROLE_DEFINITION_ACTIONS.read, scope: scopeAt },
      async handler({ request }) {
        const scope = scopeOf(request);
        const filter = parseDefinitionFilter(queryValue(request, '$filter'));
        await requireScopeExists(db, scope, { resourceMustBeKnown: false });
        const custom = (await definitions.all())
          .map((row) => ({
            role: definitionOf(row),
            dates: { createdOn: row.created_at, updatedOn: row.updated_at },
          }))
          .filter(({ role }) => role.assignableScopes.some((a) => isWithinScope(scope.scope, a)));
        const after = skipTokenOf(request);
        const all = [...BUILT_IN_ROLES.map((role) => ({ role, dates: undefined })), ...custom]
          .filter(({ role }) => matchesDefinitionFilter(role, filter))
          .filter(({ role }) => after === undefined || role.name.toLowerCase() > after)
          .sort((a, b) => a.role.name.localeCompare(b.role.name));
        return pageOf(
          all,
          pageSize,
          ({ role }) => role.name.toLowerCase(),
          ({ role, dates }) => renderRoleDefinition(scope, role, dates),
          (token) => nextLinkFor(services.publicUrl, request, token),
        );
      },
    }),
    ...atEveryScope(ONE, {
      ...common,
      method: 'GET',
      access: { kind: 'action', action: ROLE_DEFINITION_ACTIONS.read, scope: scopeAt },
      async handler(context) {
        const scope = scopeOf(context.request);
        const name = nameOf(context);
        await requireScopeExists(db, scope, { resourceMustBeKnown: false });
        const role = authorizer.getRoleDefinition(name);
        if (role === undefined) throw definitionNotFound(name);
        const row = await definitions.get(name);
        return renderRoleDefinition(
          scope,
          role,
          row && { createdOn: row.created_at, updatedOn: row.updated_at },
        );
      },
    }),
    ...atEveryScope(ONE, {
      ...common,
      method: 'PUT',
      access: { kind: 'action', action: ROLE_DEFINITION_ACTIONS.write, scope: scopeAt },
      async handler(context) {
        const scope = scopeOf(context.request);
        const name = nameOf(context);
        refuseBuiltIn(name);
        const put = parseCustomRolePut(bodyObject(context.request), name);
        for (const assignable of put.assignableScopes) await requireScopeExists(db, assignable);
        const previous = await definitions.get(name);
        const previousScopes =
          previous === undefined ? [] : definitionOf(previous).assignableScopes;
        // A role is changed wherever it can be assigned, before and after the change.
        for (const at of new Set([
          ...put.assignableScopes.map((s) => s.scope),
          ...previousScopes,
        ])) {
          await context.demand(ROLE_DEFINITION_ACTIONS.write, at);
        }
        await refuseTakenName(put.roleName, name);
        const scopes = put.assignableScopes.map((s) => s.scope);
        const stranded = (await assignments.countForRole(name)).find(
          (a) => !scopes.some((s) => isWithinScope(a.scope, s)),
        );
        if (stranded !== undefined) {
          throw new ArmError(
            'RoleDefinitionHasAssignments',
            `The role is assigned at '${stranded.scope}', which the new assignable scopes do not cover; delete that assignment first.`,
            { target: 'properties.assignableScopes' },
          );
        }
        const now = new Date(clock.now()).toISOString();
        await definitions.put(
          {
            name,
            role_name: put.roleName,
            description: put.description,
            permissions: JSON.stringify(put.permissions),
            assignable_scopes: JSON.stringify(scopes),
            created_at: previous?.created_at ?? now,
            updated_at: now,
          },
          previous,
        );
        // ARM answers 201 to every role definition PUT; the SDK accepts nothing else.
        void context.reply.code(201);
        const row = await definitions.get(name);
        if (row === undefined) throw definitionNotFound(name);
        return renderRoleDefinition(scope, definitionOf(row), {
          createdOn: row.created_at,
          updatedOn: row.updated_at,
        });
      },
    }),
    ...atEveryScope(ONE, {
      ...common,
      method: 'DELETE',
      access: { kind: 'action', action: ROLE_DEFINITION_ACTIONS.delete, scope: scopeAt },
      async handler(context) {
        const scope = scopeOf(context.request);
        const name = nameOf(context);
        refuseBuiltIn(name);
        const row = await definitions.get(name);
        if (row === undefined) {
          void context.reply.code(204);
          return undefined;
        }
        const role = definitionOf(row);
        for (const at of role.assignableScopes)
          await context.demand(ROLE_DEFINITION_ACTIONS.delete, at);
        const assigned = await assignments.countForRole(name);
        if (assigned.length > 0) {
          throw new ArmError(
            'RoleDefinitionHasAssignments',
            `There are ${assigned.length} existing role assignments using role definition '${name}' (for example at '${assigned[0]?.scope ?? ''}'); delete them first.`,
          );
        }
        await definitions.delete(name);
        return renderRoleDefinition(scope, role, {
          createdOn: row.created_at,
          updatedOn: row.updated_at,
        });
      },
    }),
  ];

  async function refuseTakenName(roleName: string, name: string): Promise<void> {
    const wanted = roleName.toLowerCase();
    const builtIn = BUILT_IN_ROLES.find((r) => r.roleName.toLowerCase() === wanted);
    const custom = (await definitions.all()).find(
      (r) => r.name !== name && r.role_name.toLowerCase() === wanted,
    );
    const taken: Pick<RoleDefinition, 'name'> | undefined =
      builtIn ?? (custom && { name: custom.name });
    if (taken !== undefined) {
      throw new ArmError(
        'RoleDefinitionWithSameNameExists',
        `A role definition named '${roleName}' already exists (id ${taken.name}); role names must be unique.`,
        { target: 'properties.roleName' },
      );
    }
  }
}

function definitionNotFound(name: string): ArmError {
  return new ArmError(
    'RoleDefinitionDoesNotExist',
    `The specified role definition with ID '${name}' does not exist.`,
    {
      target: 'roleDefinitionId',
    },
  );
}
