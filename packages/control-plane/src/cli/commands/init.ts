// `tether init --data-dir D [--json]`: creates a new installation (tenant, default subscription,
// bootstrap Owner service principal, TLS CA, and the key-encryption key that wraps the token
// signing keys) and prints its one-time secret; refuses, changing nothing, if D is already
// initialized.
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { Command } from 'commander';
import { systemClock } from '../../clock.js';
import { dataDirPaths, ensureDataDir } from '../../server/data-dir.js';
import {
  InitializationError,
  initializeInstallation,
  type Installation,
} from '../../server/initialize-installation.js';
import {
  KeyEncryptionKeys,
  useOrCreateKeyEncryptionKey,
} from '../../identity/key-encryption-keys.js';
import { rewrapSigningKeys } from '../../identity/signing-key-wrapping.js';
import { certificateNames } from '../../server/listen-address.js';
import { openDatabase, type DatabaseLocation } from '../../store/open-database.js';
import { peekSqliteTenantId } from '../../store/settings.js';
import { ensureTlsMaterial } from '../../tls/tls-material.js';
import { runServerCommand } from '../../server/run-server-command.js';

interface InitOptions {
  dataDir: string;
  json?: boolean;
  databaseUrl?: string;
  san: string[];
  keyEncryptionKeyFile?: string;
}

export function register(program: Command): void {
  program
    .command('init')
    .description(
      'create a new Tether installation in a data directory and print its bootstrap credentials',
    )
    .requiredOption(
      '--data-dir <dir>',
      'directory for the database and TLS material (created with mode 0700)',
    )
    .option(
      '--json',
      'print {tenantId, subscriptionId, appId, password, caCert, keyEncryptionKeyFile} as JSON',
    )
    .option(
      '--database-url <url>',
      'PostgreSQL URL (postgres://…) instead of SQLite in the data directory',
    )
    .option('--san <name...>', 'extra DNS names or IP addresses for the server certificate', [])
    .option(
      '--key-encryption-key-file <file>',
      'key that wraps the token signing keys, kept outside the database (created 0600 if missing); default: key-encryption.key in the data directory',
    )
    .action((options: InitOptions) => runServerCommand(() => init(options)));
}

async function init(options: InitOptions): Promise<void> {
  const paths = dataDirPaths(options.dataDir);
  const location: DatabaseLocation =
    options.databaseUrl === undefined
      ? { kind: 'sqlite', file: paths.database }
      : { kind: 'postgres', url: options.databaseUrl };
  if (location.kind === 'sqlite' && existsSync(paths.database)) {
    const tenant = await peekSqliteTenantId(paths.database);
    if (tenant !== undefined) throw alreadyInitialized(options.dataDir, tenant);
  }
  await ensureDataDir(paths);
  const kekFile = options.keyEncryptionKeyFile ?? paths.keyEncryptionKey;
  const kekExisted = existsSync(kekFile);
  const kek = await useOrCreateKeyEncryptionKey(kekFile);
  const tls = await ensureTlsMaterial(
    paths.tls,
    certificateNames('localhost', undefined, options.san),
    systemClock,
  );
  const db = await openDatabase(location);
  let installation: Installation;
  try {
    installation = await initializeInstallation(db, systemClock);
    // Signing keys are made on the server's first start, wrapped with this key from the start.
    await rewrapSigningKeys(db, KeyEncryptionKeys.of([kek]), kek);
  } catch (error) {
    // An installation that already exists keeps the key it was given; none is left behind.
    if (!kekExisted) await rm(kek.file, { force: true });
    throw error;
  } finally {
    await db.destroy();
  }
  const result = {
    tenantId: installation.tenantId,
    subscriptionId: installation.subscriptionId,
    appId: installation.appId,
    password: installation.password,
    caCert: tls.caCertPath ?? '',
    keyEncryptionKeyFile: kek.file,
  };
  if (options.json === true) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  process.stdout.write(
    [
      `Initialized Tether in ${paths.root}`,
      `  tenant id        ${result.tenantId}`,
      `  subscription id  ${result.subscriptionId} (Default)`,
      `  bootstrap appId  ${result.appId} (Owner at /)`,
      `  password         ${result.password}`,
      `  CA certificate   ${result.caCert}`,
      `  key-encryption   ${result.keyEncryptionKeyFile} (not in the database or its backups: keep a copy)`,
      '',
      'The password is shown only this once; store it safely. Clients trust the server with',
      `NODE_EXTRA_CA_CERTS=${result.caCert}. Start the server with:`,
      `  tether server --data-dir ${options.dataDir} --listen 127.0.0.1:8443${options.keyEncryptionKeyFile === undefined ? '' : ` --key-encryption-key-file ${kek.file}`}`,
      '',
    ].join('\n'),
  );
}

function alreadyInitialized(dataDir: string, tenant: string): InitializationError {
  return new InitializationError(
    'ERR_ALREADY_INITIALIZED',
    `${dataDir} is already initialized (tenant ${tenant}); nothing was changed. Use another --data-dir for a new installation.`,
  );
}
