// Installation-wide values kept in the `settings` table, written once by `tether init`.
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import { StoreError } from './store-error.js';

export const SETTING_KEYS = {
  /** The directory's tenant id (GUID): in every token, issuer and OIDC path. */
  tenantId: 'tenant_id',
  /** When `tether init` ran (ISO 8601). */
  initializedAt: 'initialized_at',
  /** Id of the key-encryption key new signing keys are wrapped with; absent: in the clear. */
  keyEncryptionKeyId: 'key_encryption_key_id',
} as const;

export type SettingKey = (typeof SETTING_KEYS)[keyof typeof SETTING_KEYS];

export async function readSetting(
  db: Kysely<Database>,
  key: SettingKey,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('settings')
    .select('value')
    .where('key', '=', key)
    .executeTakeFirst();
  return row?.value;
}

export async function writeSetting(
  db: Kysely<Database>,
  key: SettingKey,
  value: string,
): Promise<void> {
  await db.insertInto('settings').values({ key, value }).execute();
}

/**
 * The tenant id in a SQLite file, read without migrating it: lets `tether init` refuse an
 * initialized directory without changing anything in it.
 */
export async function peekSqliteTenantId(file: string): Promise<string | undefined> {
  const { default: SQLite } = await import('better-sqlite3');
  let sqlite: InstanceType<typeof SQLite>;
  try {
    // Not read-only: a read-only reader of a WAL database leaves -shm/-wal files behind, while
    // an EXCLUSIVE one uses no shared memory and removes its WAL on close.
    sqlite = new SQLite(file, { fileMustExist: true });
    sqlite.pragma('busy_timeout = 0');
    sqlite.pragma('locking_mode = EXCLUSIVE');
  } catch (error) {
    if ((error as { code?: unknown }).code === 'SQLITE_CANTOPEN') return undefined;
    throw error;
  }
  try {
    const hasSettings = sqlite
      .prepare("select 1 from sqlite_master where type = 'table' and name = 'settings'")
      .get();
    if (hasSettings === undefined) return undefined;
    const row = sqlite
      .prepare('select value from settings where key = ?')
      .get(SETTING_KEYS.tenantId) as { value: string } | undefined;
    return row?.value;
  } catch (error) {
    if ((error as { code?: unknown }).code === 'SQLITE_BUSY') {
      throw new StoreError(
        'ERR_STORE_IN_USE',
        `the database ${file} is in use by another tether process; stop it first`,
        { cause: error },
      );
    }
    throw error;
  } finally {
    sqlite.close();
  }
}
