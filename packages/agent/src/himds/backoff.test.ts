// Full-jitter backoff: grows exponentially, stays under the cap, is as random as its source.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fullJitterDelay, RETRY_AFTER_CAP_MS, retryAfterDelay } from './backoff.js';

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

void test('Retry-After in seconds or as a date is waited, spread by up to half, never past the cap', () => {
  const now = Date.parse('2026-12-03T12:00:00Z');
  assert.equal(
    retryAfterDelay('4', now, () => 0),
    4000,
  );
  assert.equal(
    retryAfterDelay(' 4 ', now, () => 0.5),
    5000,
  );
  assert.equal(
    retryAfterDelay('4', now, () => 0.999999),
    5999,
  );
  assert.equal(
    retryAfterDelay('Thu, 03 Dec 2026 12:00:10 GMT', now, () => 0),
    10_000,
  );
  assert.equal(
    retryAfterDelay('Thu, 03 Dec 2026 11:59:00 GMT', now, () => 0),
    0,
    'a past date',
  );
  assert.equal(
    retryAfterDelay('86400', now, () => 0),
    RETRY_AFTER_CAP_MS,
  );
  assert.equal(
    retryAfterDelay('30', now, () => 0, 5000),
    5000,
  );
  for (const unusable of [undefined, '', '-1', '1.5', 'soon', '12345678901'])
    assert.equal(
      retryAfterDelay(unusable, now, () => 0),
      undefined,
      String(unusable),
    );
});
