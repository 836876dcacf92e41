// Makes SQLite's commits durable off the event loop. The connection runs with synchronous=OFF,
// so a COMMIT only write()s its frames to the write-ahead log; this flushes the log with
// fdatasync on libuv's thread pool, and a write is acknowledged only after a flush that began
// after its commit has finished. Commits that land while one flush runs share the next one.
// Checkpoints are run here too, in the order SQLite's own synchronous=FULL uses (log flushed,
// pages copied, database file flushed), with the connection held until the file is flushed,
// so no writer can restart the log over frames the database file does not hold yet.
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StoreError } from './store-error.js';

/** Write transactions between checkpoints; SQLite's own default is 1000 pages. */
const CHECKPOINT_EVERY = 1_000;

export interface WalFiles {
  /** The database file, flushed after a checkpoint has copied pages into it. */
  database: FileHandle;
  /** The write-ahead log, flushed after commits. */
  log: FileHandle;
}

export class WalSync {
  /** Bumped by every commit that wrote; `flushed` is the count a finished flush covers. */
  private committed = 0;
  private flushed = 0;
  private running: Promise<void> | undefined;
  private failure: unknown;
  private sinceCheckpoint = 0;

  constructor(private readonly files: WalFiles) {}

  /** After SQLite created the log: its directory entry is flushed once, as SQLite would. */
  static async open(databaseFile: string): Promise<WalSync> {
    const directory = await open(dirname(databaseFile), 'r');
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
    const database = await open(databaseFile, 'r');
    try {
      return new WalSync({ database, log: await open(`${databaseFile}-wal`, 'r') });
    } catch (error) {
      await database.close();
      throw error;
    }
  }

  /** Called once a transaction that wrote has committed (its frames are written). */
  committedWrite(): void {
    this.committed++;
    this.sinceCheckpoint++;
  }

  /** True once enough was written since the last checkpoint that one should run. */
  get checkpointDue(): boolean {
    return this.sinceCheckpoint >= CHECKPOINT_EVERY;
  }

  /** Resolves once every commit made before this call is on disk. */
  async durable(): Promise<void> {
    const target = this.committed;
    while (this.flushed < target) {
      if (this.failure !== undefined) throw this.failed();
      // A flush already running may have begun before this commit: wait for it, then flush.
      this.running ??= this.flush();
      await this.running;
    }
    if (this.failure !== undefined) throw this.failed();
  }

  /**
   * Copies the log into the database file; `checkpoint` runs SQLite's PASSIVE checkpoint
   * synchronously. The caller holds the only connection for the whole call.
   */
  async checkpoint(checkpoint: () => void): Promise<void> {
    await this.durable();
    checkpoint();
    this.sinceCheckpoint = 0;
    await this.files.database.datasync();
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.files.log.close(), this.files.database.close()]);
  }

  private async flush(): Promise<void> {
    const covers = this.committed;
    try {
      await this.files.log.datasync();
      this.flushed = covers;
    } catch (error) {
      // After a failed fsync the kernel may have dropped the pages it could not write, and a
      // later fsync can succeed without them: nothing written after this can be promised.
      this.failure = error;
    } finally {
      this.running = undefined;
    }
  }

  private failed(): StoreError {
    return new StoreError(
      'ERR_STORE_IO',
      'the database could not be flushed to disk; restart the server once the disk is healthy',
      { cause: this.failure },
    );
  }
}
