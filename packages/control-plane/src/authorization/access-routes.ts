// `GET /{scope}/providers/Tether.Authorization/access`: who has access at a scope, where each
// grant was made, and who is an indirect administrator of the servers there (S1, S2).
import type { Kysely } from 'kysely';
import type { RouteSpec } from '../api/route-spec.js';
import type { AccessEntry } from '../rbac/types.js';
import type { ArmServices } from '../resources/arm-routes.js';
import { requireScopeExists } from '../resources/arm-scope.js';
import type { Database } from '../store/schema.js';
import { ROLE_ASSIGNMENT_ACTIONS } from './role-assignment-routes.js';
import { roleAssignmentId } from './role-assignment-resource.js';
import { roleDefinitionId } from './role-definition-id.js';
import { atEveryScope, scopeAt, scopeOf } from './scoped-routes.js';

export const ACCESS_API_VERSIONS = ['2026-11-01'] as const;

/** Display names of the principals and the groups that bring their entries, by lower-cased id. */
export async function displayNamesOf(
  db: Kysely<Database>,
  entries: readonly AccessEntry[],
): Promise<Map<string, string>> {
  const ids = [
    ...new Set(
      entries
        .flatMap((e) => (e.viaGroup === undefined ? [e.principalId] : [e.principalId, e.viaGroup]))
        .map((id) => id.toLowerCase()),
    ),
  ];
  if (ids.length === 0) return new Map();
  const names = await db
    .selectFrom('principals')
    .select(['id', 'display_name'])
    .where('id', 'in', ids)
    .execute();
  return new Map(names.map((p) => [p.id.toLowerCase(), p.display_name]));
}

/** The entries as the API answers them, with names where the directory has them. */
export function accessLines(
  entries: readonly AccessEntry[],
  names: ReadonlyMap<string, string>,
): Record<string, unknown>[] {
  return entries.map((entry) => ({
    principalId: entry.principalId,
    principalType: entry.principalType,
    displayName: names.get(entry.principalId.toLowerCase()) ?? null,
    roleDefinitionId: roleDefinitionId(entry.assignedAt, entry.roleDefinitionName),
    roleName: entry.roleName,
    assignmentId: roleAssignmentId(entry.assignedAt, entry.assignmentName),
    assignedAt: entry.assignedAt,
    inherited: entry.inherited,
    viaGroup: entry.viaGroup ?? null,
    viaGroupName:
      entry.viaGroup === undefined ? null : (names.get(entry.viaGroup.toLowerCase()) ?? null),
    indirectAdministrator: entry.indirectAdministrator,
  }));
}

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
      return { value: accessLines(entries, await displayNamesOf(db, entries)) };
    },
  });
}
