// `GET /{scope}/providers/Tether.Authorization/access/{principalId}`: check access for one
// principal, as Azure's "Check access" tab shows it — the role assignments that reach it at the
// scope (made there or above, its own or its groups') and the actions they add up to. Only a
// caller who may read role assignments at the scope may ask about someone else.
import { ArmError } from '../api/arm-error.js';
import type { RouteSpec } from '../api/route-spec.js';
import { checkGuid } from '../resources/arm-names.js';
import { param } from '../resources/arm-request.js';
import type { ArmServices } from '../resources/arm-routes.js';
import { requireScopeExists } from '../resources/arm-scope.js';
import { ACCESS_API_VERSIONS, accessLines, displayNamesOf } from './access-routes.js';
import { ROLE_ASSIGNMENT_ACTIONS } from './role-assignment-routes.js';
import { atEveryScope, scopeAt, scopeOf } from './scoped-routes.js';

export function checkAccessRoutes(services: ArmServices): RouteSpec[] {
  const { db, authorizer } = services;
  return atEveryScope('/providers/Tether.Authorization/access/:principalId', {
    method: 'GET',
    apiVersions: ACCESS_API_VERSIONS,
    access: { kind: 'action', action: ROLE_ASSIGNMENT_ACTIONS.read, scope: scopeAt },
    async handler({ request }) {
      const principalId = checkGuid(param(request, 'principalId'), 'principalId');
      const scope = scopeOf(request);
      await requireScopeExists(db, scope, { resourceMustBeKnown: false });
      const principal = await db
        .selectFrom('principals')
        .select(['id', 'type', 'display_name'])
        .where('id', '=', principalId)
        .executeTakeFirst();
      if (principal === undefined) {
        throw new ArmError(
          'ResourceNotFound',
          `The directory has no user, group or service principal with object id '${principalId}'.`,
          { target: 'principalId' },
        );
      }
      const entries = authorizer
        .accessAt(scope.scope)
        .filter((entry) => entry.principalId.toLowerCase() === principalId);
      const names = await displayNamesOf(db, entries);
      return {
        principalId: principal.id,
        principalType: principal.type,
        displayName: principal.display_name,
        assignments: accessLines(entries, names),
        permissions: authorizer.permissionsAt(principalId, scope.scope),
      };
    },
  });
}
