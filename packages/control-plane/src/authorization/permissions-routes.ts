// `GET /{scope}/providers/Microsoft.Authorization/permissions`: the caller's own effective
// permissions at a scope, which any signed-in principal may ask about itself.
import type { RouteSpec } from '../api/route-spec.js';
import type { ArmServices } from '../resources/arm-routes.js';
import { requireScopeExists } from '../resources/arm-scope.js';
import { AUTHORIZATION_API_VERSIONS } from './role-assignment-routes.js';
import { atEveryScope, scopeOf } from './scoped-routes.js';

export function permissionsRoutes(services: ArmServices): RouteSpec[] {
  const { db, authorizer } = services;
  return atEveryScope('/providers/Microsoft.Authorization/permissions', {
    method: 'GET',
    apiVersions: AUTHORIZATION_API_VERSIONS,
    access: { kind: 'authenticated' },
    async handler({ request, caller }) {
      const scope = scopeOf(request);
      await requireScopeExists(db, scope, { resourceMustBeKnown: false });
      const principalId = caller?.principalId;
      return {
        value: principalId === undefined ? [] : authorizer.permissionsAt(principalId, scope.scope),
      };
    },
  });
}
