// The configuration lock: mutual exclusion, stale locks of dead processes broken, a live
// holder waited for and then reported by pid, and never removing someone else's lock.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeTempRoot, type TempRoot } from '../test-support/temp-root.js';
import { acquireFileLock, withFileLock } from './file-lock.js';

let temp: TempRoot;
let lock: string;
beforeEach(() => {
  temp = makeTempRoot();
  lock = join(temp.root, 'test.lock');
});
afterEach(() => temp.remove());

/** The pid of a process that has already exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

void describe('withFileLock', () => {
  void test('holders never overlap and each one runs', async () => {
    let inside = 0;
    let maxInside = 0;
    let runs = 0;
    await Promise.all(
      Array.from({ length: 10 }, () =>
        withFileLock(lock, async () => {
          inside += 1;
          maxInside = Math.max(maxInside, inside);
          await sleep(2);
          inside -= 1;
          runs += 1;
        }),
      ),
    );
    assert.equal(maxInside, 1);
    assert.equal(runs, 10);
    assert.equal(existsSync(lock), false);
  });

  void test('releases the lock when the work throws', async () => {
    await assert.rejects(
      withFileLock(lock, () => Promise.reject(new Error('boom'))),
      /boom/,
    );
    assert.equal(existsSync(lock), false);
  });

  void test('breaks a lock left by a process that no longer exists', async () => {
    writeFileSync(lock, `${deadPid()} deadbeef\n`);
    assert.equal(await withFileLock(lock, () => 'ran', { timeoutMs: 2000 }), 'ran');
  });

  void test('breaks a lock without a pid once it is older than staleAfterMs', async () => {
    writeFileSync(lock, '');
    const written = Date.parse('2030-01-01T00:00:00Z');
    utimesSync(lock, written / 1000, written / 1000);
    const clock = { now: () => written + 11_000 };
    assert.equal(await withFileLock(lock, () => 'ran', { clock, staleAfterMs: 10_000 }), 'ran');
  });

  void test('waits for a young lock without a pid, then gives up naming the lock', async () => {
    writeFileSync(lock, '');
    await assert.rejects(
      withFileLock(lock, () => 'ran', { timeoutMs: 50, staleAfterMs: 60_000 }),
      (error: Error & { code?: string }) =>
        error.code === 'ERR_CONFIG_LOCKED' &&
        error.message.includes(lock) &&
        /another process/.test(error.message),
    );
    assert.equal(readFileSync(lock, 'utf8'), '', 'the lock it did not own is left in place');
  });

  void test('a live holder is waited for and named by pid on timeout', async () => {
    const holderPid = 424242;
    writeFileSync(lock, `${holderPid} cafe\n`);
    await assert.rejects(
      withFileLock(lock, () => 'ran', {
        timeoutMs: 50,
        isProcessAlive: (pid) => pid === holderPid,
      }),
      /held by process 424242/,
    );
    assert.equal(readFileSync(lock, 'utf8'), `${holderPid} cafe\n`);
  });

  void test('the timeout names what the holder is doing, such as the extension service installing', async () => {
    const release = await acquireFileLock(lock, {
      purpose: 'the extension service installing web',
    });
    try {
      await assert.rejects(
        withFileLock(lock, () => 'ran', { timeoutMs: 50 }),
        /held by process \d+\. That process is the extension service installing web; try again/,
      );
    } finally {
      release();
      release(); // a second release is harmless
    }
    assert.equal(await withFileLock(lock, () => 'ran', { timeoutMs: 500 }), 'ran');
  });
});
