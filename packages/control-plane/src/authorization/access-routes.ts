// `GET /{scope}/providers/Tether.Authorization/access`: who has access at a scope, where each
// grant was made, and who is an indirect administrator of the servers there (S1, S2).
import type { RouteSpec } from '../api/route-spec.js';
import type { ArmServices } from '../resources/arm-routes.js';
import { requireScopeExists } from '../resources/arm-scope.js';
import { ROLE_ASSIGNMENT_ACTIONS } from './role-assignment-routes.js';
import { roleAssignmentId } from './role-assignment-resource.js';
import { roleDefinitionId } from './role-definition-id.js';
import { atEveryScope, scopeAt, scopeOf } from './scoped-routes.js';

export const ACCESS_API_VERSIONS = ['2026-11-01'] as const;

export function accessRoutes(services: ArmServices): RouteSpec[] {
  const { db, authorizer } = services;
  return atEveryScope('/providers/Tether.Authorization/access', {
    method: 'GET',
    apiVersions: ACCESS_API_VERSIONS,
    access: { kind: 'action', action: ROLE_ASSIGNMENT_ACTIONS.read, scope: scopeAt },
    async handler({ request }) {
      const scope = scopeOf(request);
      await requireScopeExists(db, scope, { resourceMustBeKnown: false });
      const entries = authorizer.accessAt(scope.scope);
      const ids = [...new Set(entries.map((e) => e.principalId.toLowerCase()))];
      const names =
        ids.length === 0
          ? []
          : await db
              .selectFrom('principals')
              .select(['id', 'display_name'])
              .where('id', 'in', ids)
              .execute();
      const displayName = new Map(names.map((p) => [p.id.toLowerCase(), p.display_name]));
      return {
        value: entries.map((entry) => ({
          principalId: entry.principalId,
          principalType: entry.principalType,
          displayName: displayName.get(entry.principalId.toLowerCase()) ?? null,
          roleDefinitionId: roleDefinitionId(entry.assignedAt, entry.roleDefinitionName),
          roleName: entry.roleName,
          assignmentId: roleAssignmentId(entry.assignedAt, entry.assignmentName),
          assignedAt: entry.assignedAt,
          inherited: entry.inherited,
          viaGroup: entry.viaGroup ?? null,
          indirectAdministrator: entry.indirectAdministrator,
        })),
      };
    },
  });
}
