// Opens the control plane's database: embedded SQLite by default, PostgreSQL for scale-out.
// Both go through Kysely, so no query may depend on one backend's dialect, but for the few JSON
// and time expressions of the machines list, written once for each (resources/machine-list-sql.ts).
import type { Database as BetterSqlite3 } from 'better-sqlite3';
import { open } from 'node:fs/promises';
import {
  Kysely,
  SqliteDialect,
  type Driver,
  type SqliteDatabase,
  type SqliteDialectConfig,
  type SqliteStatement,
} from 'kysely';
import { DurableSqliteDriver } from './durable-sqlite-driver.js';
import type { Database } from './schema.js';
import { migrateToLatest } from './migrations.js';
import { OwnSchemaPostgresDialect } from './own-schema-introspector.js';
import { StoreError } from './store-error.js';
import { busyAwarePool } from './busy-aware-pool.js';
import { registerSqliteHandle } from './sqlite-handle.js';
import {
  registerSyncTransactionRunner,
  type ParameterSet,
  type SyncTransactionRunner,
} from './statement-batch.js';
import { WalSync } from './wal-sync.js';
import { registerWriteGeneration, WriteCounter } from './write-generation.js';

export type DatabaseLocation =
  | { kind: 'sqlite'; file: string }
  /** `schema` puts every table in that PostgreSQL schema (tests give each run its own). */
  | { kind: 'postgres'; url: string; schema?: string; poolSize?: number };

export async function openDatabase(location: DatabaseLocation): Promise<Kysely<Database>> {
  let db: Kysely<Database>;
  if (location.kind === 'sqlite') {
    const writes = new WriteCounter();
    const sqlite = await openSqlite(location.file);
    const statements = withStatementCache(sqlite, writes);
    const dialect =
      location.file === ':memory:'
        ? new SqliteDialect({ database: statements })
        : new DurableSqliteDialect(
            { database: statements },
            writes,
            await openWalSync(sqlite, location.file),
            () => void sqlite.pragma('wal_checkpoint(PASSIVE)'),
          );
    db = new Kysely<Database>({ dialect });
    registerWriteGeneration(db, writes);
    registerSyncTransactionRunner(db, syncTransactionRunner(sqlite, statements));
    registerSqliteHandle(db, sqlite);
  } else {
    db = new Kysely<Database>({ dialect: await postgresDialect(location) });
  }
  try {
    await migrateToLatest(
      db as Kysely<unknown>,
      location.kind === 'postgres' ? location.schema : undefined,
    );
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return db;
}

const POSTGRES_CONNECT_TIMEOUT_MS = 5_000;
/** node-postgres's own default, named so that a busy pool can say how large it is. */
const DEFAULT_POSTGRES_POOL_SIZE = 10;

async function postgresDialect(
  location: Extract<DatabaseLocation, { kind: 'postgres' }>,
): Promise<OwnSchemaPostgresDialect> {
  const { default: pg } = await import('pg');
  const schema = location.schema;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new StoreError(
      'ERR_STORE_CONFIG',
      `PostgreSQL schema ${JSON.stringify(schema)} is not valid: expected lower-case letters, digits and "_", at most 63`,
    );
  }
  const size = location.poolSize ?? DEFAULT_POSTGRES_POOL_SIZE;
  const pool = new pg.Pool({
    connectionString: location.url,
    max: size,
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
    // A database that does not answer fails the request (503) rather than holding it.
    connectionTimeoutMillis: POSTGRES_CONNECT_TIMEOUT_MS,
    keepAlive: true,
  });
  // An idle connection cut by a restart of PostgreSQL is dropped from the pool, which opens a
  // new one when next asked; without a listener the error would end the process.
  pool.on('error', () => undefined);
  // The same for a connection in use but between queries (a transaction's): PostgreSQL's
  // "terminating connection" arrives as an 'error' event on the client itself, which the pool
  // only listens to while the client is idle; the next query on it fails (503) and the pool
  // drops it when it is released.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return new OwnSchemaPostgresDialect({
    pool: busyAwarePool(pool, size, POSTGRES_CONNECT_TIMEOUT_MS),
  });
}

async function openSqlite(file: string): Promise<BetterSqlite3> {
  const { default: SQLite } = await import('better-sqlite3');
  // Secret hashes and signing keys live here: a new file is readable by its owner only (SQLite
  // gives its WAL the same mode).
  if (file !== ':memory:') await createIfMissing(file, 0o600);
  const sqlite = new SQLite(file);
  try {
    // One process owns the file: EXCLUSIVE locking holds an OS lock for as long as the
    // connection lives (released by the kernel if the process dies), so a second server on
    // the same data directory is refused instead of sharing the file. It must be set before
    // WAL is enabled, which then needs no shared-memory index either.
    sqlite.pragma('busy_timeout = 0');
    sqlite.pragma('locking_mode = EXCLUSIVE');
    sqlite.pragma('journal_mode = WAL');
    // A commit is on disk before it is acknowledged: WAL with synchronous=FULL, or for a file,
    // the same flushes made off the event loop by WalSync (see openWalSync).
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.exec('BEGIN IMMEDIATE; COMMIT');
    sqlite.pragma('busy_timeout = 5000');
    return sqlite;
  } catch (error) {
    sqlite.close();
    const busy = (error as { code?: unknown }).code === 'SQLITE_BUSY';
    if (!busy) throw error;
    throw new StoreError(
      'ERR_STORE_IN_USE',
      `the database ${file} is in use by another tether process; stop that process first (only one may open a data directory)`,
      { cause: error },
    );
  }
}

/**
 * From here on SQLite only writes; WalSync flushes the log after commits and runs the
 * checkpoints. Closing goes back to FULL first, so the checkpoint SQLite makes as it closes
 * flushes the database file before it deletes the log.
 */
async function openWalSync(sqlite: BetterSqlite3, file: string): Promise<WalSync> {
  const wal = await WalSync.open(file);
  sqlite.pragma('wal_autocheckpoint = 0');
  sqlite.pragma('synchronous = OFF');
  return wal;
}

class DurableSqliteDialect extends SqliteDialect {
  constructor(
    config: SqliteDialectConfig,
    private readonly writes: WriteCounter,
    private readonly wal: WalSync,
    private readonly checkpoint: () => void,
  ) {
    super(config);
  }

  override createDriver(): Driver {
    return new DurableSqliteDriver(super.createDriver(), this.writes, this.wal, this.checkpoint);
  }
}

async function createIfMissing(file: string, mode: number): Promise<void> {
  try {
    await (await open(file, 'wx', mode)).close();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

/** Most statements the cache keeps; the control plane issues a few dozen distinct ones. */
const STATEMENT_CACHE_LIMIT = 1000;

/**
 * better-sqlite3 compiles SQL on every prepare() and Kysely prepares once per query, which
 * cost more than the rest of a machine GET; compiled statements are kept by their SQL text.
 * Safe because Kysely runs each statement to completion (all/run) before the next one starts.
 * A statement that writes (SQLite's own verdict, which counts INSERT … RETURNING as one) bumps
 * `writes` each time it runs: this process is the file's only writer, so that is every change.
 */
function withStatementCache(sqlite: BetterSqlite3, writes: WriteCounter): SqliteDatabase {
  const statements = new Map<string, SqliteStatement>();
  return {
    close: () => {
      if (sqlite.open) sqlite.pragma('synchronous = FULL');
      sqlite.close();
    },
    prepare(sql: string): SqliteStatement {
      let statement = statements.get(sql);
      if (statement === undefined) {
        const prepared = sqlite.prepare(sql);
        // ROLLBACK is read-only to SQLite (it writes nothing): it is told apart first.
        statement =
          sql === 'rollback'
            ? rollbackIfActive(sqlite, prepared)
            : prepared.readonly
              ? prepared
              : countingWrites(prepared, writes);
        if (statements.size >= STATEMENT_CACHE_LIMIT) {
          const oldest = statements.keys().next();
          if (oldest.done !== true) statements.delete(oldest.value);
        }
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}

/**
 * Statements in one SQLite transaction, synchronously. The caller holds Kysely's only
 * connection, and Kysely keeps it for a transaction's whole length, so none can be open here;
 * if one were, the work would join it and share its fate: refused instead.
 */
function syncTransactionRunner(
  sqlite: BetterSqlite3,
  statements: SqliteDatabase,
): SyncTransactionRunner {
  // As Kysely's driver does: only a statement that returns rows may be asked for them.
  const runOne = (sql: string, parameters: ParameterSet): unknown[] => {
    const statement = statements.prepare(sql);
    if (statement.reader) return statement.all(parameters);
    statement.run(parameters);
    return [];
  };
  return (work) => {
    if (sqlite.inTransaction) {
      throw new Error('a synchronous transaction must not run inside another transaction');
    }
    return sqlite.transaction(() => work(runOne))();
  };
}

/**
 * Kysely's ROLLBACK after a failed transaction, skipped when SQLite has already ended the
 * transaction itself — as it does when a COMMIT fails for a full disk or an I/O error — so that
 * the error the caller sees is that one (SQLITE_FULL), not "cannot rollback".
 */
function rollbackIfActive(sqlite: BetterSqlite3, rollback: SqliteStatement): SqliteStatement {
  return {
    reader: false,
    all: (parameters) => (sqlite.inTransaction ? rollback.all(parameters) : []),
    run: (parameters) =>
      sqlite.inTransaction ? rollback.run(parameters) : { changes: 0, lastInsertRowid: 0 },
    iterate: (parameters) => rollback.iterate(parameters),
  };
}

function countingWrites(statement: SqliteStatement, writes: WriteCounter): SqliteStatement {
  return {
    reader: statement.reader,
    all(parameters) {
      writes.bump();
      return statement.all(parameters);
    },
    run(parameters) {
      writes.bump();
      return statement.run(parameters);
    },
    iterate(parameters) {
      writes.bump();
      return statement.iterate(parameters);
    },
  };
}
