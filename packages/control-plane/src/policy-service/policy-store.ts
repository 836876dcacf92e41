// Policy definitions, set definitions, assignments and exemptions in the database. Built-in
// definitions live in code and are never stored.
import type { Kysely } from 'kysely';
import { scopeAndAncestors } from '../rbac/scope.js';
import { preparedQuery, type PreparedQuery } from '../store/prepared-query.js';
import type {
  Database,
  PolicyAssignmentsTable,
  PolicyDefinitionsTable,
  PolicyExemptionsTable,
} from '../store/schema.js';

/** Asked on every write that policy may deny: one compiled query per depth of scope. */
const ASSIGNMENTS_AT = new Map<number, PreparedQuery<string[], PolicyAssignmentsTable>>();

function assignmentsAtQuery(count: number): PreparedQuery<string[], PolicyAssignmentsTable> {
  let query = ASSIGNMENTS_AT.get(count);
  if (query === undefined) {
    query = preparedQuery(count, (db: Kysely<Database>, ...scopes: string[]) =>
      db.selectFrom('policy_assignments').selectAll().where('scope', 'in', scopes).orderBy('id'),
    );
    ASSIGNMENTS_AT.set(count, query);
  }
  return query;
}

export class PolicyStore {
  constructor(private readonly db: Kysely<Database>) {}

  async definition(id: string): Promise<PolicyDefinitionsTable | undefined> {
    return this.db
      .selectFrom('policy_definitions')
      .selectAll()
      .where('id', '=', id.toLowerCase())
      .executeTakeFirst();
  }

  /** Custom definitions of a kind living at any of `scopes`. */
  async definitionsAt(
    kind: 'definition' | 'set',
    scopes: readonly string[],
  ): Promise<PolicyDefinitionsTable[]> {
    if (scopes.length === 0) return [];
    return this.db
      .selectFrom('policy_definitions')
      .selectAll()
      .where('kind', '=', kind)
      .where('scope', 'in', [...scopes])
      .orderBy('id')
      .execute();
  }

  async allDefinitions(): Promise<PolicyDefinitionsTable[]> {
    return this.db.selectFrom('policy_definitions').selectAll().orderBy('id').execute();
  }

  async putDefinition(row: PolicyDefinitionsTable): Promise<void> {
    await this.db
      .insertInto('policy_definitions')
      .values(row)
      .onConflict((oc) =>
        oc.column('id').doUpdateSet({
          properties: row.properties,
          updated_at: row.updated_at,
          updated_by: row.updated_by,
        }),
      )
      .execute();
  }

  async deleteDefinition(id: string): Promise<void> {
    await this.db.deleteFrom('policy_definitions').where('id', '=', id).execute();
  }

  async assignment(id: string): Promise<PolicyAssignmentsTable | undefined> {
    return this.db
      .selectFrom('policy_assignments')
      .selectAll()
      .where('id', '=', id.toLowerCase())
      .executeTakeFirst();
  }

  /** Every assignment; there are few, and lists filter them by scope. */
  async assignments(): Promise<PolicyAssignmentsTable[]> {
    return this.db.selectFrom('policy_assignments').selectAll().orderBy('id').execute();
  }

  /** Assignments at the resource or above it: those that can cover it. */
  async assignmentsAbove(resourceId: string): Promise<PolicyAssignmentsTable[]> {
    const scopes = scopeAndAncestors(resourceId.toLowerCase());
    return assignmentsAtQuery(scopes.length).rows(this.db, ...scopes);
  }

  async assignmentsOf(policyDefinitionId: string): Promise<PolicyAssignmentsTable[]> {
    return this.db
      .selectFrom('policy_assignments')
      .selectAll()
      .where('policy_definition_id', '=', policyDefinitionId.toLowerCase())
      .execute();
  }

  async putAssignment(row: PolicyAssignmentsTable): Promise<void> {
    await this.db
      .insertInto('policy_assignments')
      .values(row)
      .onConflict((oc) =>
        oc.column('id').doUpdateSet({
          policy_definition_id: row.policy_definition_id,
          location: row.location,
          properties: row.properties,
          updated_at: row.updated_at,
          updated_by: row.updated_by,
        }),
      )
      .execute();
  }

  /** Deletes the assignment and its exemptions, which would otherwise name nothing. */
  async deleteAssignment(id: string): Promise<string[]> {
    return this.db.transaction().execute(async (trx) => {
      const exemptions = await trx
        .deleteFrom('policy_exemptions')
        .where('policy_assignment_id', '=', id)
        .returning('id')
        .execute();
      await trx.deleteFrom('policy_assignments').where('id', '=', id).execute();
      return exemptions.map((e) => e.id);
    });
  }

  async exemption(id: string): Promise<PolicyExemptionsTable | undefined> {
    return this.db
      .selectFrom('policy_exemptions')
      .selectAll()
      .where('id', '=', id.toLowerCase())
      .executeTakeFirst();
  }

  async exemptions(): Promise<PolicyExemptionsTable[]> {
    return this.db.selectFrom('policy_exemptions').selectAll().orderBy('id').execute();
  }

  async exemptionsOf(policyAssignmentIds: readonly string[]): Promise<PolicyExemptionsTable[]> {
    if (policyAssignmentIds.length === 0) return [];
    return this.db
      .selectFrom('policy_exemptions')
      .selectAll()
      .where('policy_assignment_id', 'in', [...policyAssignmentIds])
      .execute();
  }

  async putExemption(row: PolicyExemptionsTable): Promise<void> {
    await this.db
      .insertInto('policy_exemptions')
      .values(row)
      .onConflict((oc) =>
        oc.column('id').doUpdateSet({
          policy_assignment_id: row.policy_assignment_id,
          expires_on: row.expires_on,
          properties: row.properties,
          updated_at: row.updated_at,
          updated_by: row.updated_by,
        }),
      )
      .execute();
  }

  async deleteExemption(id: string): Promise<void> {
    await this.db.deleteFrom('policy_exemptions').where('id', '=', id).execute();
  }
}
