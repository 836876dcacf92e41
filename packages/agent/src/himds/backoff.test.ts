// Full-jitter backoff: grows exponentially, stays under the cap, is as random as its source.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fullJitterDelay } from './backoff.js';

void test('the ceiling doubles per failure up to the cap, and the delay is random below it', () => {
  const policy = { baseMs: 1000, capMs: 60_000 };
  assert.equal(
    fullJitterDelay(1, policy, () => 0.999999),
    1999,
  );
  assert.equal(
    fullJitterDelay(3, policy, () => 0.5),
    4000,
  );
  assert.equal(
    fullJitterDelay(40, policy, () => 0.5),
    30_000,
  );
  assert.equal(
    fullJitterDelay(5, policy, () => 0),
    0,
  );
  let seed = 42;
  const seeded = (): number => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
  const delays = Array.from({ length: 50 }, () => fullJitterDelay(10, policy, seeded));
  assert.ok(delays.every((d) => d >= 0 && d < 60_000));
  assert.ok(new Set(delays).size > 40, 'jitter spreads the retries');
});
