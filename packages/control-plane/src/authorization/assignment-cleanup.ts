// Deleting a resource takes the role assignments made on it (and below it) along, so that a
// new resource created later under the same name does not inherit someone else's access.
import { sql, type Kysely } from 'kysely';
import type { AuthorizationEngine } from '../rbac/types.js';
import { likeBelow } from '../resources/sql-like.js';
import type { Database } from '../store/schema.js';

/** Deletes, inside the caller's transaction, every assignment at or below `scope`. */
export async function deleteAssignmentsWithin(
  db: Kysely<Database>,
  scope: string,
): Promise<string[]> {
  const rows = await db
    .deleteFrom('role_assignments')
    .where((eb) =>
      eb.or([eb('scope', '=', scope), sql<boolean>`scope like ${likeBelow(scope)} escape '\\'`]),
    )
    .returning('name')
    .execute();
  return rows.map((r) => r.name);
}

/** After the deletion is committed: the engine stops granting what the store no longer holds. */
export function forgetAssignments(authorizer: AuthorizationEngine, names: readonly string[]): void {
  for (const name of names) authorizer.removeRoleAssignment(name);
}
