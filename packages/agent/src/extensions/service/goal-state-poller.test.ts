// The long-poll loop with a manual scheduler: `after` carries the last generation, errors back
// off with full jitter between 1 s and the cap and log once, answers resume polling at once,
// an unchanged answer that comes back too fast does not make it spin, stop aborts the poll.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fullJitterDelay } from '../../himds/backoff.js';
import type { GoalState } from './goal-state.js';
import { GoalStatePoller } from './goal-state-poller.js';
import { refusedAnswer } from './machine-client.js';
import { FakeExtensionApi } from './testing/fake-extension-api.js';
import { ManualScheduler, seeded, until } from './testing/manual-scheduler.js';

const POLICY = { baseMs: 1_000, capMs: 300_000 };

function setup(): {
  api: FakeExtensionApi;
  scheduler: ManualScheduler;
  poller: GoalStatePoller<GoalState>;
  states: GoalState[];
  logs: string[];
  attempts: (string | undefined)[];
} {
  const api = new FakeExtensionApi();
  const scheduler = new ManualScheduler();
  const states: GoalState[] = [];
  const logs: string[] = [];
  const attempts: (string | undefined)[] = [];
  const poller = new GoalStatePoller({
    api,
    clock: scheduler,
    scheduler,
    random: seeded(11),
    backoff: POLICY,
    log: (line) => logs.push(line),
    onGoalState: (state) => states.push(state),
    onAttempt: (error) => attempts.push(error),
  });
  return { api, scheduler, poller, states, logs, attempts };
}

const state = (generation: number): GoalState => ({ generation, extensions: [] });

void describe('GoalStatePoller', () => {
  void test('asks without after first, then with the last generation, re-polling at once', async () => {
    const { api, scheduler, poller, states } = setup();
    poller.start();
    scheduler.runNext();
    api.answer(state(5));
    await until('the next poll to be scheduled', () => scheduler.pending.length === 1);
    assert.deepEqual(scheduler.delays(), [0]);
    scheduler.runNext();
    api.answer(state(6));
    await until('the next poll', () => scheduler.pending.length === 1);
    scheduler.runNext();
    assert.deepEqual(api.polls, [undefined, 5, 6]);
    assert.deepEqual(
      states.map((item) => item.generation),
      [5, 6],
    );
    poller.stop();
  });

  void test('backs off with full jitter, at least 1 s, logs once, and resumes when answered', async () => {
    const { api, scheduler, poller, logs, attempts } = setup();
    const expected = seeded(11);
    poller.start();
    const delays: number[] = [];
    for (let failure = 1; failure <= 12; failure += 1) {
      scheduler.runNext();
      api.fail('connect ECONNREFUSED 127.0.0.1:443');
      await until('the retry to be scheduled', () => scheduler.pending.length === 1);
      const delay = scheduler.delays()[0] ?? -1;
      delays.push(delay);
      const window = { baseMs: POLICY.baseMs, capMs: POLICY.capMs - POLICY.baseMs };
      assert.equal(delay, POLICY.baseMs + fullJitterDelay(failure, window, expected));
      assert.ok(delay >= 1_000 && delay <= 300_000, String(delay));
    }
    assert.ok(Math.max(...delays) > 60_000, 'the ceiling grows towards the cap');
    assert.equal(logs.length, 1, logs.join('\n'));
    assert.match(logs[0] ?? '', /cannot fetch the goal state: connect ECONNREFUSED/);
    scheduler.runNext();
    api.answer(state(1));
    await until('polling to resume', () => scheduler.pending.length === 1);
    assert.deepEqual(scheduler.delays(), [0]);
    assert.match(logs[1] ?? '', /reachable again after 12 failed attempt/);
    assert.equal(attempts.at(-1), undefined);
    assert.equal(attempts.filter((item) => item !== undefined).length, 12);
    poller.stop();
  });

  void test("a 503's Retry-After is waited, spread by up to half, capped; other refusals back off", async () => {
    const { api, scheduler, poller } = setup();
    const busy = (retryAfter: string | undefined, status = 503): Error =>
      refusedAnswer('answer the extension goal state', {
        status,
        body: Buffer.from('{"error":{"code":"ServiceUnavailable","message":"busy"}}'),
        retryAfter,
      });
    poller.start();
    const delays: number[] = [];
    for (const error of [busy('4'), busy('4'), busy('86400'), busy(undefined), busy('4', 500)]) {
      scheduler.runNext();
      api.fail(error);
      await until('the retry to be scheduled', () => scheduler.pending.length === 1);
      delays.push(scheduler.delays()[0] ?? -1);
    }
    const [first, second, long, none, other] = delays as [number, number, number, number, number];
    for (const d of [first, second]) assert.ok(d >= 4_000 && d < 6_000, String(d));
    assert.notEqual(first, second, 'spread, not all at once');
    assert.equal(long, POLICY.capMs, 'never past the cap');
    // Without a usable Retry-After, the backoff of the 4th and 5th failures in a row.
    for (const d of [none, other]) assert.ok(d >= 1_000 && d <= 300_000, String(d));
    scheduler.runNext();
    api.answer(state(1));
    await until('polling to resume', () => scheduler.pending.length === 1);
    assert.deepEqual(scheduler.delays(), [0]);
    poller.stop();
  });

  void test('an unchanged answer that returns at once waits a second before the next poll', async () => {
    const { api, scheduler, poller } = setup();
    poller.start();
    scheduler.runNext();
    api.answer(state(3));
    await until('a poll', () => scheduler.pending.length === 1);
    scheduler.runNext();
    api.answer(state(3)); // a server that ignores `wait`
    await until('a poll', () => scheduler.pending.length === 1);
    assert.deepEqual(scheduler.delays(), [1_000]);
    poller.stop();
  });

  void test('stop aborts the poll in flight and schedules nothing more', async () => {
    const { api, scheduler, poller, states } = setup();
    poller.start();
    scheduler.runNext();
    assert.ok(api.polling);
    poller.stop();
    await until('the abort', () => api.aborted === 1);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(scheduler.pending.length, 0);
    assert.deepEqual(states, []);
  });
});
