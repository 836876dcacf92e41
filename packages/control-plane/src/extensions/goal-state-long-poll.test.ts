// The goal-state long poll: a waiting request is answered in the same tick as the change
// that concerns it, times out unchanged, and waiting costs one timer and one listener each.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { armTestBackends } from '../resources/testing/arm-test-app.js';
import { CUSTOM_SCRIPT, ExtensionTestWorld } from './testing/extension-test-world.js';
import { GoalStateWaiters, MAX_WAITERS_PER_MACHINE } from './goal-state-waiters.js';

void describe('goal-state long poll', () => {
  let w: ExtensionTestWorld;
  before(async () => {
    w = await ExtensionTestWorld.create();
    await w.publish(CUSTOM_SCRIPT.publisher, CUSTOM_SCRIPT.type, '2.1.0');
  });
  after(() => w.close());

  // A poll that waited for its 30 s would overrun these cases' 10 s limit: finishing at all
  // shows it was answered by the change, not by the timer (no bound on elapsed time here).
  void it(
    'answers at once without after, or when the generation differs',
    { timeout: 10_000 },
    async () => {
      const first = await w.goalState();
      assert.deepEqual(first.body, { generation: 0, extensions: [], agentUpgrade: null });
      const waiters = GoalStateWaiters.of(w.t.db);
      assert.equal((await w.goalState('&after=7&wait=30')).status, 200);
      assert.equal(waiters.size, 0, 'nothing waited');
    },
  );

  void it(
    'wakes a waiting poll when a PUT changes the goal state',
    { timeout: 10_000 },
    async () => {
      const waiters = GoalStateWaiters.of(w.t.db);
      const polled = w.goalState('&after=0&wait=30');
      while (waiters.size === 0) await new Promise((resolve) => setImmediate(resolve));
      const put = await w.put('CustomScript', CUSTOM_SCRIPT);
      assert.equal(put.status, 201);
      const answer = await polled;
      assert.equal(answer.body['generation'], 1);
      assert.equal((answer.body['extensions'] as unknown[]).length, 1);
      assert.equal(waiters.size, 0);
    },
  );

  void it('answers the unchanged state once wait seconds pass', async () => {
    const started = performance.now();
    const answer = await w.goalState('&after=1&wait=1');
    const elapsed = performance.now() - started;
    assert.equal(answer.status, 200);
    assert.equal(answer.body['generation'], 1);
    // A timer never fires early: the lower bound is exact, and no upper bound is assumed.
    assert.ok(elapsed >= 950, `waited ${elapsed} ms`);
  });

  void it('refuses a wait outside 1-60 seconds and an after that is not a number', async () => {
    for (const query of ['&after=1&wait=0', '&after=1&wait=61', '&after=x']) {
      const answer = await w.goalState(query);
      assert.equal(answer.status, 400, query);
      assert.equal((answer.body['error'] as { code: string }).code, 'BadRequest');
    }
  });
});

// A poll reads the machine, its generation and its overdue operations in one query before it
// waits; what that read finds decides as the separate reads did, on either database.
for (const backend of armTestBackends()) {
  void describe(`goal-state poll start (${backend.name})`, () => {
    let w: ExtensionTestWorld;
    before(async () => {
      w = await ExtensionTestWorld.create({ backend });
      await w.publish(CUSTOM_SCRIPT.publisher, CUSTOM_SCRIPT.type, '2.1.0');
    });
    after(() => w.close());

    void it('a poll of a machine that does not exist is 404 and leaves nothing waiting', async () => {
      const answer = await w.goalState('&after=0&wait=30', w.admin, 'web-09');
      assert.equal(answer.status, 404);
      assert.match(JSON.stringify(answer.body), /machines\/web-09/);
      assert.equal(GoalStateWaiters.of(w.t.db).size, 0);
    });

    void it(
      'a poll from the current generation is answered at once, the operation failed, when one is overdue',
      { timeout: 10_000 },
      async () => {
        assert.equal((await w.put('Late', CUSTOM_SCRIPT)).status, 201);
        const current = (await w.goalState()).body['generation'] as number;
        w.t.clock.advance(6 * 3_600_000);
        const answer = await w.goalState(`&after=${current}&wait=30`);
        assert.equal(answer.status, 200);
        assert.ok((answer.body['generation'] as number) > current, 'the generation moved');
        const late = (answer.body['extensions'] as { name: string; operation: unknown }[]).find(
          (e) => e.name === 'Late',
        );
        assert.equal(late?.operation, null, 'the failed operation is no longer carried');
        assert.equal(GoalStateWaiters.of(w.t.db).size, 0);
      },
    );

    void it(
      'a poll from the current generation waits, and one behind it does not',
      { timeout: 10_000 },
      async () => {
        const current = (await w.goalState()).body['generation'] as number;
        const waiters = GoalStateWaiters.of(w.t.db);
        assert.equal((await w.goalState(`&after=${current + 5}&wait=30`)).status, 200);
        assert.equal(waiters.size, 0);
        const polled = w.goalState(`&after=${current}&wait=30`);
        while (waiters.size === 0) await new Promise((resolve) => setImmediate(resolve));
        assert.equal((await w.put('Again', CUSTOM_SCRIPT)).status, 201);
        assert.equal((await polled).body['generation'], current + 1);
      },
    );
  });
}

void describe('GoalStateWaiters', () => {
  void it('holds 10,000 waiters cheaply, wakes only the machine changed, forgets closed ones', async () => {
    const waiters = new GoalStateWaiters();
    const requests = Array.from({ length: 10_000 }, () => new EventEmitter());
    const waits = requests.map((request, i) => waiters.wait(`m-${i % 2000}`, 60_000, request));
    assert.equal(waiters.size, 10_000);
    waiters.wake('m-7');
    const woken = await Promise.all(waits.filter((_, i) => i % 2000 === 7).map((x) => x.done));
    assert.equal(woken.length, 5);
    assert.ok(woken.every((outcome) => outcome === 'changed'));
    assert.equal(waiters.size, 9_995);
    requests[0]?.emit('close');
    assert.equal(await waits[0]?.done, 'closed');
    assert.equal(waiters.size, 9_994);
    assert.equal(requests[0]?.listenerCount('close'), 0);
    for (let i = 0; i < 2000; i += 1) waiters.wake(`m-${i}`);
    assert.equal(waiters.size, 0);
    assert.ok(
      requests.every((r) => r.listenerCount('close') === 0),
      'listeners removed',
    );
  });

  void it('a machine going from one waiter to several and back wakes exactly those left', async () => {
    const waiters = new GoalStateWaiters();
    const [a, b, c] = [new EventEmitter(), new EventEmitter(), new EventEmitter()];
    const first = waiters.wait('m', 60_000, a);
    const second = waiters.wait('m', 60_000, b);
    a.emit('close');
    assert.equal(await first.done, 'closed');
    assert.equal(waiters.size, 1);
    const third = waiters.wait('m', 60_000, c);
    assert.equal(waiters.size, 2);
    second.cancel();
    assert.equal(await second.done, 'changed');
    assert.equal(waiters.size, 1);
    waiters.wake('m');
    assert.equal(await third.done, 'changed');
    assert.equal(waiters.size, 0);
    assert.ok([a, b, c].every((r) => r.listenerCount('close') === 0));
    // A wait after all of them is held again, alone.
    const fourth = waiters.wait('m', 60_000, new EventEmitter());
    assert.equal(waiters.size, 1);
    waiters.wakeAll();
    assert.equal(await fourth.done, 'changed');
  });

  void it('holds at most MAX_WAITERS_PER_MACHINE per machine, answering the oldest first', async () => {
    const waiters = new GoalStateWaiters();
    const requests = Array.from({ length: 1000 }, () => new EventEmitter());
    const waits = requests.map((request) => waiters.wait('m', 60_000, request));
    const other = waiters.wait('n', 60_000, new EventEmitter());
    assert.equal(waiters.size, MAX_WAITERS_PER_MACHINE + 1);
    const evicted = await Promise.all(waits.slice(0, -MAX_WAITERS_PER_MACHINE).map((w) => w.done));
    assert.ok(evicted.every((outcome) => outcome === 'timeout'));
    assert.ok(
      requests.slice(0, -MAX_WAITERS_PER_MACHINE).every((r) => r.listenerCount('close') === 0),
    );
    waiters.wake('m');
    const newest = await Promise.all(waits.slice(-MAX_WAITERS_PER_MACHINE).map((w) => w.done));
    assert.ok(
      newest.every((outcome) => outcome === 'changed'),
      'the newest polls still wait',
    );
    waiters.wake('n');
    assert.equal(await other.done, 'changed');
    assert.equal(waiters.size, 0);
  });

  void it('answers every waiting poll at once on shutdown', async () => {
    const waiters = new GoalStateWaiters();
    const waits = Array.from({ length: 3 * MAX_WAITERS_PER_MACHINE }, (_, i) =>
      waiters.wait(`m-${i % 3}`, 60_000, new EventEmitter()),
    );
    waiters.wakeAll();
    const outcomes = await Promise.all(waits.map((w) => w.done));
    assert.ok(outcomes.every((outcome) => outcome === 'changed'));
    assert.equal(waiters.size, 0);
  });

  void it('times out with its own timer', async () => {
    const waiters = new GoalStateWaiters();
    assert.equal(await waiters.wait('m', 5, new EventEmitter()).done, 'timeout');
    assert.equal(waiters.size, 0);
  });
});
