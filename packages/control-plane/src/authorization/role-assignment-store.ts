// Role assignments in the database and in the authorization engine, kept in step: the
// database is written first and the engine follows only once the write is committed.
import { sql, type Kysely } from 'kysely';
import type { AuthorizationEngine, RoleAssignment } from '../rbac/types.js';
import { scopeAndAncestors } from '../rbac/scope.js';
import type { ParsedScope } from '../resources/arm-scope.js';
import { likeBelow } from '../resources/sql-like.js';
import type { Database, RoleAssignmentsTable } from '../store/schema.js';
import type { AssignmentFilter } from './role-assignment-filter.js';

export class RoleAssignmentStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly authorizer: AuthorizationEngine,
  ) {}

  /** Assignments at, above and (unless `atScope`) below the scope, by name, after `after`. */
  async list(
    scope: ParsedScope,
    filter: AssignmentFilter,
    after: string | undefined,
    limit: number,
  ): Promise<RoleAssignmentsTable[]> {
    const principals = await this.principalsOf(filter);
    const ancestors = scopeAndAncestors(scope.scope);
    let query = this.db.selectFrom('role_assignments').selectAll();
    if (filter.atScope) query = query.where('scope', 'in', ancestors);
    else if (scope.kind !== 'root') {
      const below = likeBelow(scope.scope);
      query = query.where((eb) =>
        eb.or([eb('scope', 'in', ancestors), sql<boolean>`scope like ${below} escape '\\'`]),
      );
    }
    if (principals !== undefined) query = query.where('principal_id', 'in', principals);
    if (after !== undefined) query = query.where('name', '>', after);
    return query.orderBy('name').limit(limit).execute();
  }

  async get(name: string): Promise<RoleAssignmentsTable | undefined> {
    return this.db
      .selectFrom('role_assignments')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
  }

  async findSame(
    scope: string,
    roleDefinitionName: string,
    principalId: string,
  ): Promise<RoleAssignmentsTable | undefined> {
    return this.db
      .selectFrom('role_assignments')
      .selectAll()
      .where('scope', '=', scope)
      .where('role_definition_name', '=', roleDefinitionName)
      .where('principal_id', '=', principalId)
      .executeTakeFirst();
  }

  async countForRole(roleDefinitionName: string): Promise<RoleAssignmentsTable[]> {
    return this.db
      .selectFrom('role_assignments')
      .selectAll()
      .where('role_definition_name', '=', roleDefinitionName)
      .execute();
  }

  /** Inserts; false when a concurrent request inserted the same name or triple first. */
  async create(row: RoleAssignmentsTable): Promise<boolean> {
    const result = await this.db
      .insertInto('role_assignments')
      .values(row)
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    if (result.numInsertedOrUpdatedRows === 0n) return false;
    try {
      this.authorizer.putPrincipal(row.principal_id, row.principal_type);
      this.authorizer.putRoleAssignment(toAssignment(row));
    } catch (error) {
      // The engine refused what the store took: undo, so that the two never disagree.
      await this.db.deleteFrom('role_assignments').where('name', '=', row.name).execute();
      this.authorizer.removeRoleAssignment(row.name);
      throw error;
    }
    return true;
  }

  async delete(name: string): Promise<void> {
    await this.db.deleteFrom('role_assignments').where('name', '=', name).execute();
    this.authorizer.removeRoleAssignment(name);
  }

  private async principalsOf(filter: AssignmentFilter): Promise<string[] | undefined> {
    if (filter.principalId !== undefined) return [filter.principalId];
    if (filter.assignedTo === undefined) return undefined;
    const groups = await this.db
      .selectFrom('group_members')
      .select('group_id')
      .where('member_id', '=', filter.assignedTo)
      .execute();
    return [filter.assignedTo, ...groups.map((g) => g.group_id.toLowerCase())];
  }
}

export function toAssignment(row: RoleAssignmentsTable): RoleAssignment {
  return {
    name: row.name,
    scope: row.scope,
    roleDefinitionName: row.role_definition_name,
    principalId: row.principal_id,
    principalType: row.principal_type,
  };
}
