// Installation-wide values kept in the `settings` table, written once by `tether init`.
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

export const SETTING_KEYS = {
  /** The directory's tenant id (GUID): in every token, issuer and OIDC path. */
  tenantId: 'tenant_id',
  /** When `tether init` ran (ISO 8601). */
  initializedAt: 'initialized_at',
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
