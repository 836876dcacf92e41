// `tether keys rotate-kek`: re-wraps every token signing key with a new key-encryption key in
// one transaction and makes it the key new signing keys are wrapped with. Nodes hold both keys
// (`--key-encryption-key-file` twice) while the rotation rolls out, then only the new one.
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { Command } from 'commander';
import {
  KeyEncryptionKeys,
  useOrCreateKeyEncryptionKey,
} from '../../identity/key-encryption-keys.js';
import { rewrapSigningKeys } from '../../identity/signing-key-wrapping.js';
import { dataDirPaths } from '../../server/data-dir.js';
import { runServerCommand } from '../../server/run-server-command.js';
import { ServerError } from '../../server/server-error.js';
import { openDatabase, type DatabaseLocation } from '../../store/open-database.js';

interface RotateOptions {
  dataDir: string;
  databaseUrl?: string;
  keyEncryptionKeyFile: string[];
  newKeyFile: string;
}

export function register(program: Command): void {
  const keys = program.command('keys').description('the keys that protect the installation');
  keys
    .command('rotate-kek')
    .description(
      're-wrap every token signing key with a new key-encryption key (SQLite: stop the server first)',
    )
    .requiredOption('--data-dir <dir>', 'data directory made by `tether init`')
    .option('--database-url <url>', 'PostgreSQL URL (postgres://…) instead of SQLite')
    .option(
      '--key-encryption-key-file <file>',
      'the current key (repeatable); default: key-encryption.key in the data directory',
      (file: string, files: string[]) => [...files, file],
      [],
    )
    .requiredOption(
      '--new-key-file <file>',
      'the new key; created (mode 0600) if the file does not exist',
    )
    .action((options: RotateOptions) => runServerCommand(() => rotateKek(options)));
}

async function rotateKek(options: RotateOptions): Promise<void> {
  const paths = dataDirPaths(options.dataDir);
  const current = await KeyEncryptionKeys.load(
    options.keyEncryptionKeyFile.length > 0
      ? options.keyEncryptionKeyFile
      : existsSync(paths.keyEncryptionKey)
        ? [paths.keyEncryptionKey]
        : [],
  );
  let location: DatabaseLocation;
  if (options.databaseUrl !== undefined) {
    location = { kind: 'postgres', url: options.databaseUrl };
  } else if (existsSync(paths.database)) {
    location = { kind: 'sqlite', file: paths.database };
  } else {
    throw new ServerError(
      'ERR_NOT_INITIALIZED',
      `${options.dataDir} holds no Tether database (${paths.database}); give the data directory of the installation`,
    );
  }
  const created = !existsSync(options.newKeyFile);
  const target = await useOrCreateKeyEncryptionKey(options.newKeyFile);
  let count: number;
  try {
    const db = await openDatabase(location);
    try {
      count = await rewrapSigningKeys(db, KeyEncryptionKeys.of([...current.keys, target]), target);
    } finally {
      await db.destroy();
    }
  } catch (error) {
    // Nothing was re-wrapped: a key file made for this run is not left behind.
    if (created) await rm(target.file, { force: true });
    throw error;
  }
  process.stdout.write(
    [
      `${created ? 'Created' : 'Using'} key-encryption key ${target.id} in ${target.file}.`,
      `Re-wrapped ${count} token signing key${count === 1 ? '' : 's'} with it; new signing keys are wrapped with it too.`,
      `Give every node --key-encryption-key-file ${target.file} and then remove the old key file.`,
      '',
    ].join('\n'),
  );
}
