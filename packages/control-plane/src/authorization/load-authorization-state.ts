// Fills a fresh authorization engine from the database at start-up: custom roles, principal
// types, group membership and role assignments, so a restart forgets no grant and invents none.
import type { Kysely } from 'kysely';
import type { AuthorizationEngine } from '../rbac/types.js';
import type { Database } from '../store/schema.js';
import { toAssignment } from './role-assignment-store.js';
import { definitionOf } from './role-definition-store.js';

export async function loadAuthorizationState(
  db: Kysely<Database>,
  authorizer: AuthorizationEngine,
): Promise<void> {
  for (const row of await db.selectFrom('role_definitions').selectAll().execute()) {
    authorizer.putRoleDefinition(definitionOf(row));
  }
  for (const principal of await db.selectFrom('principals').select(['id', 'type']).execute()) {
    authorizer.putPrincipal(principal.id, principal.type);
  }
  const members = new Map<string, string[]>();
  for (const { group_id, member_id } of await db
    .selectFrom('group_members')
    .selectAll()
    .execute()) {
    const list = members.get(group_id);
    if (list === undefined) members.set(group_id, [member_id]);
    else list.push(member_id);
  }
  for (const [group, ids] of members) authorizer.setGroupMembers(group, ids);
  for (const row of await db.selectFrom('role_assignments').selectAll().execute()) {
    authorizer.putRoleAssignment(toAssignment(row));
  }
}
