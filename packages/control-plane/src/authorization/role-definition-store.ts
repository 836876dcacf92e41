// Custom role definitions in the database and the authorization engine, database first;
// built-in roles live in code and are never stored.
import type { Kysely } from 'kysely';
import { ArmError } from '../api/arm-error.js';
import { RbacError } from '../rbac/rbac-error.js';
import type { AuthorizationEngine, Permission, RoleDefinition } from '../rbac/types.js';
import type { Database, RoleDefinitionsTable } from '../store/schema.js';

export class RoleDefinitionStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly authorizer: AuthorizationEngine,
  ) {}

  async all(): Promise<RoleDefinitionsTable[]> {
    return this.db.selectFrom('role_definitions').selectAll().orderBy('name').execute();
  }

  async get(name: string): Promise<RoleDefinitionsTable | undefined> {
    return this.db
      .selectFrom('role_definitions')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
  }

  /** Creates or replaces; if the engine refuses the definition, the store is put back. */
  async put(row: RoleDefinitionsTable, previous: RoleDefinitionsTable | undefined): Promise<void> {
    await this.db
      .insertInto('role_definitions')
      .values(row)
      .onConflict((oc) =>
        oc.column('name').doUpdateSet({
          role_name: row.role_name,
          description: row.description,
          permissions: row.permissions,
          assignable_scopes: row.assignable_scopes,
          updated_at: row.updated_at,
        }),
      )
      .execute();
    try {
      this.authorizer.putRoleDefinition(definitionOf(row));
    } catch (error) {
      if (previous === undefined) {
        await this.db.deleteFrom('role_definitions').where('name', '=', row.name).execute();
      } else {
        await this.db
          .updateTable('role_definitions')
          .set(previous)
          .where('name', '=', row.name)
          .execute();
      }
      // The engine's own checks are the last word on a definition; its refusal is bad input.
      if (error instanceof RbacError) {
        throw new ArmError(
          'InvalidRequestContent',
          `The role definition is invalid: ${error.message}.`,
          {
            target: error.target === undefined ? 'properties' : `properties.${error.target}`,
            cause: error,
          },
        );
      }
      throw error;
    }
  }

  async delete(name: string): Promise<void> {
    await this.db.deleteFrom('role_definitions').where('name', '=', name).execute();
    this.authorizer.removeRoleDefinition(name);
  }
}

export function definitionOf(row: RoleDefinitionsTable): RoleDefinition {
  return {
    name: row.name,
    roleName: row.role_name,
    description: row.description,
    roleType: 'CustomRole',
    permissions: JSON.parse(row.permissions) as Permission[],
    assignableScopes: JSON.parse(row.assignable_scopes) as string[],
  };
}
