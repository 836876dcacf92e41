// A periodic task's stop(): the run in progress is told to end through its signal and waited
// for, and no run starts after it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FastifyBaseLogger } from 'fastify';
import { PeriodicTask } from './periodic-task.js';

const errors: unknown[] = [];
const log = { error: (...args: unknown[]) => errors.push(args) } as unknown as FastifyBaseLogger;

void describe('PeriodicTask', () => {
  void it('aborts the signal of a run in progress at stop(), waits for it, then runs no more', async () => {
    const signals: AbortSignal[] = [];
    let finished = 0;
    const task = new PeriodicTask(
      'long job',
      60_000,
      async (signal) => {
        signals.push(signal);
        // A job of many steps that checks its signal between them.
        while (!signal.aborted) await new Promise((resolve) => setImmediate(resolve));
        finished++;
      },
      log,
    );
    task.runOnce();
    assert.equal(signals.length, 1);
    assert.equal(signals[0]?.aborted, false);
    await task.stop();
    assert.equal(signals[0]?.aborted, true);
    assert.equal(finished, 1, 'stop() waited for the run to end');
    task.runOnce();
    assert.equal(signals.length, 1, 'no run after stop()');
    assert.deepEqual(errors, []);
  });
});
