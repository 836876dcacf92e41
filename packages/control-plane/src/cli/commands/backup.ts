// `tether backup` and `tether restore` for a SQLite installation. A running server takes the
// backup itself (online, through its admin socket); a stopped one is copied directly. Every
// backup is verified before it is kept, and restore refuses a damaged file or a data directory
// a server is running on. The key-encryption key is never in a backup.
import { constants, existsSync } from 'node:fs';
import { chmod, copyFile, open, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { readKeyEncryptionKeyFile } from '../../identity/key-encryption-keys.js';
import { ADMIN_SOCKET_NAME, answers, askServer } from '../../server/admin-socket.js';
import { dataDirPaths, ensureDataDir } from '../../server/data-dir.js';
import { runServerCommand } from '../../server/run-server-command.js';
import { ServerError } from '../../server/server-error.js';
import { verifySqliteBackup, type BackupFacts } from '../../store/sqlite-backup.js';
import { StoreError } from '../../store/store-error.js';

interface BackupOptions {
  dataDir: string;
  out: string;
  databaseUrl?: string;
}

interface RestoreOptions {
  dataDir: string;
  from: string;
  databaseUrl?: string;
}

export function register(program: Command): void {
  program
    .command('backup')
    .description('copy the SQLite database to a file, online if the server is running, verified')
    .requiredOption('--data-dir <dir>', 'data directory of the installation')
    .requiredOption('--out <file>', 'the backup file to write (never overwritten; mode 0600)')
    .option('--database-url <url>', 'refused: PostgreSQL is backed up with pg_dump')
    .action((options: BackupOptions) => runServerCommand(() => backup(options)));
  program
    .command('restore')
    .description('replace the SQLite database of a stopped installation with a verified backup')
    .requiredOption('--data-dir <dir>', 'data directory of the installation (server stopped)')
    .requiredOption('--from <file>', 'a file made by `tether backup`')
    .option('--database-url <url>', 'refused: PostgreSQL is restored with pg_restore')
    .action((options: RestoreOptions) => runServerCommand(() => restore(options)));
}

const POSTGRES_HINT =
  'a PostgreSQL installation is backed up with pg_dump and restored with pg_restore (docs/operations.md)';

async function backup(options: BackupOptions): Promise<void> {
  if (options.databaseUrl !== undefined) {
    throw new ServerError('ERR_SERVER_CONFIG', POSTGRES_HINT, { target: '--database-url' });
  }
  const paths = dataDirPaths(options.dataDir);
  const out = resolve(options.out);
  if (existsSync(out)) {
    throw new ServerError(
      'ERR_SERVER_CONFIG',
      `--out ${out} already exists: a backup never replaces a file; choose a new name`,
      { target: '--out' },
    );
  }
  if (!existsSync(dirname(out))) {
    throw new ServerError('ERR_SERVER_CONFIG', `--out: the folder ${dirname(out)} does not exist`, {
      target: '--out',
    });
  }
  const socket = join(paths.root, ADMIN_SOCKET_NAME);
  let facts: BackupFacts;
  let how: string;
  if (await answers(socket)) {
    const reply = await askServer(socket, { command: 'backup' });
    if (!reply.ok)
      throw new StoreError('ERR_BACKUP_FAILED', `the server's backup failed: ${reply.message}`);
    try {
      await copyFile(reply.file, out, constants.COPYFILE_EXCL);
    } finally {
      await rm(reply.file, { force: true });
    }
    how = 'online, from the running server';
  } else {
    if (!existsSync(paths.database)) {
      throw new ServerError(
        'ERR_NOT_INITIALIZED',
        `${options.dataDir} holds no Tether database (${paths.database}); give the data directory of the installation`,
      );
    }
    await copyStoppedDatabase(paths.database, out);
    how = 'from the stopped installation';
  }
  try {
    await chmod(out, 0o600);
    await syncFile(out);
    facts = await verifySqliteBackup(out, { standalone: true });
  } catch (error) {
    await rm(out, { force: true });
    throw error;
  }
  process.stdout.write(
    [
      `Backed up tenant ${facts.tenantId} (${facts.bytes} bytes, schema ${facts.migrations.at(-1) ?? 'none'}) to ${out},`,
      `${how}; SQLite's integrity check passed.`,
      facts.keyEncryptionKeyId === undefined
        ? 'Its token signing keys are stored unencrypted (no key-encryption key): keep the file safe.'
        : `The key-encryption key (${facts.keyEncryptionKeyId}) is not in the backup: keep a copy of its file, apart from the backup.`,
      '',
    ].join('\n'),
  );
}

/** SQLite's backup API on the file itself, which only works while no server holds it. */
async function copyStoppedDatabase(database: string, out: string): Promise<void> {
  const { default: SQLite } = await import('better-sqlite3');
  const sqlite = new SQLite(database, { fileMustExist: true });
  try {
    sqlite.pragma('busy_timeout = 0');
    sqlite.pragma('locking_mode = EXCLUSIVE');
    sqlite.exec('BEGIN IMMEDIATE; COMMIT');
    await sqlite.backup(out);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'SQLITE_BUSY') {
      throw new StoreError(
        'ERR_STORE_IN_USE',
        `the database ${database} is in use by another process that does not answer on ${ADMIN_SOCKET_NAME}; stop it, or back up through the server that holds it`,
        { cause: error },
      );
    }
    throw error;
  } finally {
    sqlite.close();
  }
}

async function restore(options: RestoreOptions): Promise<void> {
  if (options.databaseUrl !== undefined) {
    throw new ServerError('ERR_SERVER_CONFIG', POSTGRES_HINT, { target: '--database-url' });
  }
  const paths = dataDirPaths(options.dataDir);
  const from = resolve(options.from);
  if (!existsSync(from)) {
    throw new ServerError('ERR_SERVER_CONFIG', `--from ${from} does not exist`, {
      target: '--from',
    });
  }
  const facts = await verifySqliteBackup(from);
  if (await answers(join(paths.root, ADMIN_SOCKET_NAME))) throw serverRunning(options.dataDir);
  await ensureDataDir(paths);
  let kept: string | undefined;
  if (existsSync(paths.database)) {
    await closeCleanly(paths.database, options.dataDir);
    kept = `${paths.database}.before-restore-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    await rename(paths.database, kept);
  }
  const partial = `${paths.database}.restoring`;
  await rm(partial, { force: true });
  await copyFile(from, partial, constants.COPYFILE_EXCL);
  await chmod(partial, 0o600);
  await syncFile(partial);
  await rename(partial, paths.database);
  await syncFile(paths.root);

  const lines = [
    `Restored tenant ${facts.tenantId} (schema ${facts.migrations.at(-1) ?? 'none'}) from ${from} into ${paths.database}.`,
  ];
  if (kept !== undefined) lines.push(`The database it replaced is kept as ${kept}.`);
  if (facts.keyEncryptionKeyId !== undefined) {
    const local = existsSync(paths.keyEncryptionKey)
      ? await readKeyEncryptionKeyFile(paths.keyEncryptionKey).catch(() => undefined)
      : undefined;
    if (local?.id !== facts.keyEncryptionKeyId) {
      lines.push(
        `Its token signing keys are wrapped with key-encryption key ${facts.keyEncryptionKeyId}: start the server with that key's file (--key-encryption-key-file).`,
      );
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

/**
 * Takes the database's lock, proving no server holds it, and closes it: closing folds any WAL
 * back into the file, so none is left to be mixed with the restored database.
 */
async function closeCleanly(database: string, dataDir: string): Promise<void> {
  const { default: SQLite } = await import('better-sqlite3');
  let sqlite: InstanceType<typeof SQLite> | undefined;
  try {
    sqlite = new SQLite(database, { fileMustExist: true });
    sqlite.pragma('busy_timeout = 0');
    sqlite.pragma('locking_mode = EXCLUSIVE');
    sqlite.exec('BEGIN IMMEDIATE; COMMIT');
  } catch (error) {
    if ((error as { code?: unknown }).code === 'SQLITE_BUSY') throw serverRunning(dataDir);
    throw error;
  } finally {
    sqlite?.close();
  }
  for (const suffix of ['-wal', '-shm']) {
    if (existsSync(`${database}${suffix}`)) {
      throw new StoreError(
        'ERR_STORE_IN_USE',
        `${database}${suffix} is still there after closing the database: another process may have it open; nothing was changed`,
      );
    }
  }
}

function serverRunning(dataDir: string): StoreError {
  return new StoreError(
    'ERR_STORE_IN_USE',
    `a tether server is running on ${dataDir}: stop it before restoring; nothing was changed`,
  );
}

async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
