// Commits made durable off the event loop: a write is answered only after a flush of the log
// that began after its commit, commits made during one flush share the next, a failed flush
// refuses every later write, and checkpoints carry the log into the database file.
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setImmediate as turn } from 'node:timers/promises';
import { openDatabase } from './open-database.js';
import { WalSync } from './wal-sync.js';

/** A log whose flushes finish when the test says so. */
function controlledLog(): {
  handle: FileHandle;
  flushes: { finish(): void; fail(error: Error): void }[];
} {
  const flushes: { finish(): void; fail(error: Error): void }[] = [];
  const handle = {
    datasync: () =>
      new Promise<void>((resolve, reject) => flushes.push({ finish: resolve, fail: reject })),
    close: () => Promise.resolve(),
  } as unknown as FileHandle;
  return { handle, flushes };
}

const settled = async (promise: Promise<unknown>): Promise<boolean> => {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 5; i++) await turn();
  return done;
};

void describe('WalSync', () => {
  void it('answers a commit only after a flush that began after it', async () => {
    const log = controlledLog();
    const wal = new WalSync({ database: log.handle, log: log.handle });
    wal.committedWrite();
    const first = wal.durable();
    assert.equal(log.flushes.length, 1);
    // Committed while the first flush runs: that flush may not hold it.
    wal.committedWrite();
    const second = wal.durable();
    wal.committedWrite();
    const third = wal.durable();
    assert.equal(await settled(second), false);
    log.flushes[0]?.finish();
    await first;
    assert.equal(await settled(second), false, 'the first flush does not cover later commits');
    assert.equal(log.flushes.length, 2, 'the commits made during it share one flush');
    log.flushes[1]?.finish();
    await Promise.all([second, third]);
    assert.equal(log.flushes.length, 2);
    // Nothing committed since: nothing to wait for.
    await wal.durable();
    assert.equal(log.flushes.length, 2);
  });

  void it('refuses every later write once a flush failed', async () => {
    const log = controlledLog();
    const wal = new WalSync({ database: log.handle, log: log.handle });
    wal.committedWrite();
    const lost = wal.durable();
    log.flushes[0]?.fail(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    await assert.rejects(lost, { code: 'ERR_STORE_IO' });
    wal.committedWrite();
    await assert.rejects(wal.durable(), { code: 'ERR_STORE_IO' });
    assert.equal(log.flushes.length, 1, 'no flush after a failed one can be trusted');
  });

  void it('checkpoints the log into the database file as writes go on, and keeps them all', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tether-wal-'));
    try {
      const file = join(dir, 'tether.db');
      let db = await openDatabase({ kind: 'sqlite', file });
      const writes = 2_500;
      // Fifty at a time: the commits made while one flush runs share the next.
      for (let i = 0; i < writes; i += 50) {
        await Promise.all(
          Array.from({ length: 50 }, (_, j) =>
            db
              .insertInto('settings')
              .values({ key: `wal-${i + j}`, value: 'v' })
              .execute(),
          ),
        );
      }
      // The database file alone, without its log, holds what the checkpoint carried into it.
      await copyFile(file, join(dir, 'alone.db'));
      const alone = await openDatabase({ kind: 'sqlite', file: join(dir, 'alone.db') });
      const carried = await alone
        .selectFrom('settings')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('key', 'like', 'wal-%')
        .executeTakeFirstOrThrow();
      await alone.destroy();
      // A checkpoint runs every thousand write transactions, so at least two have.
      assert.ok(Number(carried.n) >= 1_500, `${carried.n} rows in the database file alone`);
      await db.destroy();
      db = await openDatabase({ kind: 'sqlite', file });
      const all = await db
        .selectFrom('settings')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('key', 'like', 'wal-%')
        .executeTakeFirstOrThrow();
      await db.destroy();
      assert.equal(Number(all.n), writes);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
