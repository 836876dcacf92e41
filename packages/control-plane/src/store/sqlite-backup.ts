// Online backups of the SQLite database with SQLite's backup API, and the check every backup
// passes before it is handed out or restored: a whole, intact Tether database.
import { stat } from 'node:fs/promises';
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import { SETTING_KEYS } from './settings.js';
import { sqliteHandleOf } from './sqlite-handle.js';
import { StoreError } from './store-error.js';

/** Pages copied per step (16 MiB of 4 KiB pages): the event loop turns between steps. */
const PAGES_PER_STEP = 4096;

export interface BackupFacts {
  tenantId: string;
  /** Migrations the database has had, newest last. */
  migrations: string[];
  /** Id of the key-encryption key its signing keys are wrapped with; absent: in the clear. */
  keyEncryptionKeyId: string | undefined;
  bytes: number;
}

/**
 * Copies the open database to `destination` (a new file) while the server keeps running:
 * Kysely's one connection is held for the copy, so queries wait for it rather than fail, and
 * the copy is one consistent moment. The copy is then made a standalone (rollback-journal)
 * file and verified.
 */
export async function backupSqliteDatabase(
  db: Kysely<Database>,
  destination: string,
): Promise<BackupFacts> {
  const sqlite = sqliteHandleOf(db);
  if (sqlite === undefined) {
    throw new StoreError(
      'ERR_STORE_CONFIG',
      'only a SQLite database is backed up by tether backup; back PostgreSQL up with pg_dump (docs/operations.md)',
    );
  }
  await db.connection().execute(async () => {
    await sqlite.backup(destination, { progress: () => PAGES_PER_STEP });
  });
  return verifySqliteBackup(destination, { standalone: true });
}

/**
 * Checks that `file` is a whole, intact Tether database: SQLite's integrity check, the
 * installation's tenant, its migrations. `standalone` first switches a copy made from a WAL
 * database to a rollback journal, so that it is one file.
 */
export async function verifySqliteBackup(
  file: string,
  options: { standalone?: boolean } = {},
): Promise<BackupFacts> {
  const { default: SQLite } = await import('better-sqlite3');
  const damaged = (detail: string, cause?: unknown) =>
    new StoreError(
      'ERR_BACKUP_DAMAGED',
      `${file} is not a usable Tether backup: ${detail}; nothing was changed`,
      cause === undefined ? undefined : { cause },
    );
  let sqlite: InstanceType<typeof SQLite>;
  try {
    sqlite = new SQLite(file, { fileMustExist: true });
    // As in peekSqliteTenantId: no shared-memory or WAL file is left beside the backup.
    sqlite.pragma('locking_mode = EXCLUSIVE');
    if (options.standalone === true) sqlite.pragma('journal_mode = DELETE');
  } catch (error) {
    throw damaged(describe(error), error);
  }
  try {
    const check = sqlite.pragma('integrity_check') as { integrity_check: string }[];
    const problems = check.map((row) => row.integrity_check).filter((r) => r !== 'ok');
    if (problems.length > 0) throw damaged(`integrity check: ${problems.slice(0, 3).join('; ')}`);
    const has = (table: string) =>
      sqlite.prepare("select 1 from sqlite_master where type = 'table' and name = ?").get(table) !==
      undefined;
    if (!has('settings') || !has('kysely_migration')) throw damaged('it holds no Tether tables');
    const setting = (key: string) =>
      (
        sqlite.prepare('select value from settings where key = ?').get(key) as
          { value: string } | undefined
      )?.value;
    const tenantId = setting(SETTING_KEYS.tenantId);
    if (tenantId === undefined) throw damaged('it holds no initialized installation');
    const migrations = (
      sqlite.prepare('select name from kysely_migration order by name').all() as { name: string }[]
    ).map((row) => row.name);
    return {
      tenantId,
      migrations,
      keyEncryptionKeyId: setting(SETTING_KEYS.keyEncryptionKeyId),
      bytes: (await stat(file)).size,
    };
  } catch (error) {
    if (error instanceof StoreError) throw error;
    throw damaged(describe(error), error);
  } finally {
    sqlite.close();
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
