import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  GoalStateNotices,
  MAX_WAITERS_PER_SERVICE,
  TooManyWaitersError,
} from './goal-state-notices.js';

void describe('the goal-state notice board', () => {
  void test('a hello after none open moves the sequence; one more channel announcing does not', () => {
    const board = new GoalStateNotices(0);
    const a = {};
    const b = {};
    board.hello(a, ['extensions', 'guestConfiguration']);
    assert.deepEqual(board.state('extensions'), { announced: true, sequence: 1 });
    board.hello(b, ['extensions', 'guestConfiguration']);
    board.closed(a);
    assert.deepEqual(board.state('extensions'), { announced: true, sequence: 1 });
    board.closed(b);
    assert.deepEqual(board.state('extensions'), { announced: false, sequence: 1 });
    board.hello(b, ['extensions']);
    assert.deepEqual(board.state('extensions'), { announced: true, sequence: 2 });
    assert.deepEqual(board.state('guestConfiguration'), { announced: false, sequence: 1 });
  });

  void test('notices from a channel it does not know (closed, no hello) are ignored', () => {
    const board = new GoalStateNotices(0);
    const a = {};
    board.changed(a, 'extensions');
    assert.equal(board.state('extensions').sequence, 0);
    board.hello(a, ['extensions']);
    board.changed(a, 'extensions');
    assert.equal(board.state('extensions').sequence, 2);
    board.closed(a);
    board.changed(a, 'extensions');
    assert.equal(board.state('extensions').sequence, 2);
  });

  void test('an ask is answered at once unless announced and unchanged since what the asker saw', async () => {
    const board = new GoalStateNotices(0);
    const a = {};
    assert.deepEqual(await board.wait('extensions', 0, 60_000), { announced: false, sequence: 0 });
    board.hello(a, ['extensions']);
    assert.deepEqual(await board.wait('extensions', undefined, 60_000), {
      announced: true,
      sequence: 1,
    });
    assert.deepEqual(await board.wait('extensions', 0, 60_000), { announced: true, sequence: 1 });
    // A restarted HIMDS counts from 0 again: any other number is a change.
    assert.deepEqual(await board.wait('extensions', 7, 60_000), { announced: true, sequence: 1 });
    assert.deepEqual(await board.wait('extensions', 1, 0), { announced: true, sequence: 1 });
  });

  void test('a held ask ends on a change, on the announcement ending, or when its wait passes', async () => {
    const board = new GoalStateNotices(0);
    const a = {};
    board.hello(a, ['extensions', 'guestConfiguration']);
    const changed = board.wait('extensions', 1, 60_000);
    const other = board.wait('guestConfiguration', 1, 60_000);
    assert.equal(board.held('extensions'), 1);
    board.changed(a, 'extensions');
    assert.deepEqual(await changed, { announced: true, sequence: 2 });
    assert.equal(board.held('guestConfiguration'), 1, 'another goal state is not woken');
    board.closed(a);
    assert.deepEqual(await other, { announced: false, sequence: 1 });
    board.hello(a, ['extensions']);
    const started = Date.now();
    assert.deepEqual(await board.wait('extensions', 3, 30), { announced: true, sequence: 3 });
    assert.ok(Date.now() - started >= 25);
    assert.equal(board.held('extensions'), 0);
  });

  void test('held asks are bounded per goal state, and an aborted one frees its place', async () => {
    const board = new GoalStateNotices(0);
    const a = {};
    board.hello(a, ['extensions', 'guestConfiguration']);
    const controllers = Array.from(
      { length: MAX_WAITERS_PER_SERVICE },
      () => new AbortController(),
    );
    const held = controllers.map((c) => board.wait('extensions', 1, 60_000, c.signal));
    await assert.rejects(board.wait('extensions', 1, 60_000), TooManyWaitersError);
    const gc = board.wait('guestConfiguration', 1, 60_000);
    (controllers[0] as AbortController).abort();
    assert.deepEqual(await held[0], { announced: true, sequence: 1 });
    assert.equal(board.held('extensions'), MAX_WAITERS_PER_SERVICE - 1);
    board.release();
    await Promise.all([...held, gc]);
    assert.equal(board.held('extensions'), 0);
  });
});

void test('each board counts from its own random start', () => {
  const starts = new Set(
    Array.from({ length: 20 }, () => new GoalStateNotices().state('extensions').sequence),
  );
  assert.ok(starts.size > 15, [...starts].join(' '));
});
