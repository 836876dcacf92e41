// The rows of people's sign-in: browser sessions, authorization codes, refresh tokens and device
// codes, each found by the hash of the value the client holds. One-time values are taken with a
// conditional update, so two processes sharing the database cannot both redeem one.
import type { Kysely, Selectable } from 'kysely';
import type {
  AuthorizationCodesTable,
  Database,
  DeviceCodesTable,
  RefreshTokensTable,
  SignInSessionsTable,
} from '../store/schema.js';

export type SessionRow = Selectable<SignInSessionsTable>;
export type AuthorizationCodeRow = Selectable<AuthorizationCodesTable>;
export type RefreshTokenRow = Selectable<RefreshTokensTable>;
export type DeviceCodeRow = Selectable<DeviceCodesTable>;

export class SignInStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insertSession(row: SessionRow): Promise<void> {
    await this.db.insertInto('sign_in_sessions').values(row).execute();
  }

  async session(idHash: string): Promise<SessionRow | undefined> {
    return this.db
      .selectFrom('sign_in_sessions')
      .selectAll()
      .where('id_hash', '=', idHash)
      .executeTakeFirst();
  }

  async deleteSession(idHash: string): Promise<void> {
    await this.db.deleteFrom('sign_in_sessions').where('id_hash', '=', idHash).execute();
  }

  async insertCode(row: AuthorizationCodeRow): Promise<void> {
    await this.db.insertInto('authorization_codes').values(row).execute();
  }

  /** Marks the code used and returns it; undefined when unknown; `reused` when used before. */
  async takeCode(
    codeHash: string,
    now: string,
  ): Promise<{ row: AuthorizationCodeRow; reused: boolean } | undefined> {
    const row = await this.db
      .selectFrom('authorization_codes')
      .selectAll()
      .where('code_hash', '=', codeHash)
      .executeTakeFirst();
    if (row === undefined) return undefined;
    const taken = await this.db
      .updateTable('authorization_codes')
      .set({ used_at: now })
      .where('code_hash', '=', codeHash)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return { row, reused: Number(taken.numUpdatedRows) === 0 };
  }

  async insertRefreshToken(row: RefreshTokenRow): Promise<void> {
    await this.db.insertInto('refresh_tokens').values(row).execute();
  }

  async refreshToken(tokenHash: string): Promise<RefreshTokenRow | undefined> {
    return this.db
      .selectFrom('refresh_tokens')
      .selectAll()
      .where('token_hash', '=', tokenHash)
      .executeTakeFirst();
  }

  /** True when this call marked the token used (it was live and unused). */
  async useRefreshToken(tokenHash: string, now: string): Promise<boolean> {
    const result = await this.db
      .updateTable('refresh_tokens')
      .set({ used_at: now })
      .where('token_hash', '=', tokenHash)
      .where('used_at', 'is', null)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async revokeFamily(familyId: string, now: string): Promise<void> {
    await this.db
      .updateTable('refresh_tokens')
      .set({ revoked_at: now })
      .where('family_id', '=', familyId)
      .where('revoked_at', 'is', null)
      .execute();
  }

  /** Sign-out and a new password: every refresh token and browser session of the person ends. */
  async revokeUser(userId: string, now: string): Promise<void> {
    await this.db
      .updateTable('refresh_tokens')
      .set({ revoked_at: now })
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .execute();
    await this.db.deleteFrom('sign_in_sessions').where('user_id', '=', userId).execute();
  }

  /** Forgets rows whose time has passed, so the tables hold only what can still be used. */
  async prune(now: string): Promise<void> {
    await this.db.deleteFrom('sign_in_sessions').where('expires_at', '<', now).execute();
    await this.db.deleteFrom('authorization_codes').where('expires_at', '<', now).execute();
    await this.db.deleteFrom('refresh_tokens').where('expires_at', '<', now).execute();
    await this.db.deleteFrom('device_codes').where('expires_at', '<', now).execute();
  }

  async insertDeviceCode(row: DeviceCodeRow): Promise<void> {
    await this.db.insertInto('device_codes').values(row).execute();
  }

  async deviceCode(deviceCodeHash: string): Promise<DeviceCodeRow | undefined> {
    return this.db
      .selectFrom('device_codes')
      .selectAll()
      .where('device_code_hash', '=', deviceCodeHash)
      .executeTakeFirst();
  }

  async deviceCodeByUserCode(userCode: string): Promise<DeviceCodeRow | undefined> {
    return this.db
      .selectFrom('device_codes')
      .selectAll()
      .where('user_code', '=', userCode)
      .executeTakeFirst();
  }

  async pollDeviceCode(deviceCodeHash: string, now: string): Promise<void> {
    await this.db
      .updateTable('device_codes')
      .set({ last_polled_at: now })
      .where('device_code_hash', '=', deviceCodeHash)
      .execute();
  }

  /** Moves a code from `from` to `to` (and sets who approved it); false when it was not in `from`. */
  async moveDeviceCode(
    deviceCodeHash: string,
    from: DeviceCodeRow['status'],
    to: DeviceCodeRow['status'],
    user?: { userId: string; credentialId: string },
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('device_codes')
      .set({
        status: to,
        ...(user === undefined ? {} : { user_id: user.userId, credential_id: user.credentialId }),
      })
      .where('device_code_hash', '=', deviceCodeHash)
      .where('status', '=', from)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }
}
