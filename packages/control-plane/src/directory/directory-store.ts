// The directory's rows: principals (service principals, users, groups), their credentials and
// group membership. Deleting a principal removes everything that refers to it, in one
// transaction.
import { sql, type Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import type { CredentialRow, PrincipalRow } from '../identity/credential-store.js';
import { likePrefix } from '../resources/sql-like.js';
import type { Database, PrincipalsTable } from '../store/schema.js';

export type PrincipalType = PrincipalsTable['type'];

export interface NewPrincipal {
  id: string;
  type: PrincipalType;
  displayName: string;
  appId?: string;
  userPrincipalName?: string;
  description?: string | null;
  replyUrls?: readonly string[];
}

export interface PrincipalQuery {
  type: PrincipalType;
  /** Match on one column, from `$filter=<field> eq '…'`; a case-insensitive prefix with `prefix`. */
  filter?:
    | {
        column: 'display_name' | 'app_id' | 'user_principal_name';
        value: string;
        prefix?: boolean;
      }
    | undefined;
  /** Ids sort ascending; the page starts after this one. */
  after?: string | undefined;
  limit: number;
}

export class DirectoryStore {
  constructor(
    readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async insertPrincipal(
    input: NewPrincipal,
    trx: Kysely<Database> = this.db,
  ): Promise<PrincipalRow> {
    const row: PrincipalRow = {
      id: input.id,
      type: input.type,
      display_name: input.displayName,
      app_id: input.appId ?? null,
      user_principal_name: input.userPrincipalName ?? null,
      machine_id: null,
      description: input.description ?? null,
      reply_urls: input.replyUrls === undefined ? null : JSON.stringify(input.replyUrls),
      created_at: new Date(this.clock.now()).toISOString(),
    };
    await trx.insertInto('principals').values(row).execute();
    return row;
  }

  async principal(id: string, type?: PrincipalType): Promise<PrincipalRow | undefined> {
    let query = this.db.selectFrom('principals').selectAll().where('id', '=', id);
    if (type !== undefined) query = query.where('type', '=', type);
    return query.executeTakeFirst();
  }

  /** The principals among `ids` (lower-cased object ids), in id order. */
  async principalsByIds(ids: readonly string[]): Promise<PrincipalRow[]> {
    if (ids.length === 0) return [];
    return this.db
      .selectFrom('principals')
      .selectAll()
      .where('id', 'in', ids)
      .orderBy('id')
      .execute();
  }

  async principalByUpn(userPrincipalName: string): Promise<PrincipalRow | undefined> {
    return this.db
      .selectFrom('principals')
      .selectAll()
      .where('user_principal_name', '=', userPrincipalName)
      .executeTakeFirst();
  }

  async listPrincipals(query: PrincipalQuery): Promise<PrincipalRow[]> {
    let select = this.db
      .selectFrom('principals')
      .selectAll()
      .where('type', '=', query.type)
      .orderBy('id')
      .limit(query.limit);
    const filter = query.filter;
    if (filter?.prefix === true) {
      // lower() on both sides: LIKE is case-insensitive on SQLite and not on PostgreSQL.
      const pattern = likePrefix(filter.value.toLowerCase());
      select = select.where(
        sql<boolean>`lower(${sql.ref(filter.column)}) like ${pattern} escape '\\'`,
      );
    } else if (filter !== undefined) select = select.where(filter.column, '=', filter.value);
    if (query.after !== undefined) select = select.where('id', '>', query.after);
    return select.execute();
  }

  /** Removes the principal, its credentials, memberships (both ways) and role assignments. */
  async deletePrincipal(id: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('credentials').where('principal_id', '=', id).execute();
      await trx.deleteFrom('group_members').where('member_id', '=', id).execute();
      await trx.deleteFrom('group_members').where('group_id', '=', id).execute();
      await trx.deleteFrom('role_assignments').where('principal_id', '=', id).execute();
      await trx.deleteFrom('principals').where('id', '=', id).execute();
    });
  }

  async setReplyUrls(id: string, urls: readonly string[]): Promise<void> {
    await this.db
      .updateTable('principals')
      .set({ reply_urls: JSON.stringify(urls) })
      .where('id', '=', id)
      .execute();
  }

  async credentials(principalId: string): Promise<CredentialRow[]> {
    return this.db
      .selectFrom('credentials')
      .selectAll()
      .where('principal_id', '=', principalId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
  }

  async insertCredential(row: CredentialRow, trx: Kysely<Database> = this.db): Promise<void> {
    await trx.insertInto('credentials').values(row).execute();
  }

  /** Puts `row` in place of the user's password credentials; returns the ids it replaced. */
  async replacePasswords(userId: string, row: CredentialRow): Promise<string[]> {
    return this.db.transaction().execute(async (trx) => {
      const old = await trx
        .selectFrom('credentials')
        .select('id')
        .where('principal_id', '=', userId)
        .where('kind', '=', 'password')
        .execute();
      await trx
        .deleteFrom('credentials')
        .where('principal_id', '=', userId)
        .where('kind', '=', 'password')
        .execute();
      await trx.insertInto('credentials').values(row).execute();
      return old.map((o) => o.id);
    });
  }

  async deleteCredential(
    principalId: string,
    id: string,
    kind: CredentialRow['kind'],
  ): Promise<boolean> {
    const result = await this.db
      .deleteFrom('credentials')
      .where('id', '=', id)
      .where('principal_id', '=', principalId)
      .where('kind', '=', kind)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async members(groupId: string): Promise<PrincipalRow[]> {
    return this.db
      .selectFrom('group_members')
      .innerJoin('principals', 'principals.id', 'group_members.member_id')
      .selectAll('principals')
      .where('group_members.group_id', '=', groupId)
      .orderBy('principals.id')
      .execute();
  }

  async memberIds(groupId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('group_members')
      .select('member_id')
      .where('group_id', '=', groupId)
      .execute();
    return rows.map((r) => r.member_id);
  }

  /** False when the member was already in the group. */
  async addMember(groupId: string, memberId: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const existing = await trx
        .selectFrom('group_members')
        .select('member_id')
        .where('group_id', '=', groupId)
        .where('member_id', '=', memberId)
        .executeTakeFirst();
      if (existing !== undefined) return false;
      await trx
        .insertInto('group_members')
        .values({ group_id: groupId, member_id: memberId })
        .execute();
      return true;
    });
  }

  async removeMember(groupId: string, memberId: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('group_members')
      .where('group_id', '=', groupId)
      .where('member_id', '=', memberId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
