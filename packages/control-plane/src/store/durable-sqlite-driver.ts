// Kysely's SQLite driver with commits made durable off the event loop (see wal-sync.ts): the
// one connection is released as soon as a statement or transaction that wrote has finished,
// and its caller is answered once the log holding it is flushed. Reads never wait.
import type { DatabaseConnection, Driver, QueryCompiler, TransactionSettings } from 'kysely';
import type { WalSync } from './wal-sync.js';
import type { WriteGeneration } from './write-generation.js';

export class DurableSqliteDriver implements Driver {
  /** The write generation when the connection was taken (one connection: one at a time). */
  private takenAt = 0;

  constructor(
    private readonly inner: Driver,
    private readonly writes: WriteGeneration,
    private readonly wal: WalSync,
    /** SQLite's PASSIVE checkpoint, run synchronously on the connection. */
    private readonly checkpoint: () => void,
  ) {}

  init(): Promise<void> {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await this.inner.acquireConnection();
    this.takenAt = this.writes.current();
    return connection;
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.inner.beginTransaction(connection, settings);
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.commitTransaction(connection);
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.rollbackTransaction(connection);
  }

  savepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    return this.savepointStep('savepoint', connection, name, compile);
  }

  rollbackToSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    return this.savepointStep('rollbackToSavepoint', connection, name, compile);
  }

  releaseSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    return this.savepointStep('releaseSavepoint', connection, name, compile);
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    const wrote = this.writes.current() !== this.takenAt;
    if (!wrote) return this.inner.releaseConnection(connection);
    // Kysely holds the connection for a transaction's whole length, so whatever wrote has
    // committed (or rolled back) by now; the flush waits with the connection free.
    this.wal.committedWrite();
    if (this.wal.checkpointDue) {
      try {
        await this.wal.checkpoint(this.checkpoint);
      } finally {
        await this.inner.releaseConnection(connection);
      }
      return;
    }
    await this.inner.releaseConnection(connection);
    await this.wal.durable();
  }

  private async savepointStep(
    step: 'savepoint' | 'rollbackToSavepoint' | 'releaseSavepoint',
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    if (this.inner[step] === undefined) throw new Error(`the SQLite driver has no ${step}`);
    await this.inner[step](connection, name, compile);
  }

  async destroy(): Promise<void> {
    await this.inner.destroy();
    await this.wal.close();
  }
}
