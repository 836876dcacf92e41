// The token endpoint's limits: failures per client and address, per client, per address, each
// for one window; and a bounded number of secret hashes at once.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../clock.js';
import { OAuthError } from './oauth-error.js';
import { SignInThrottle, type ThrottleLimits } from './sign-in-throttle.js';

const LIMITS: ThrottleLimits = {
  perClientAddress: 3,
  perClient: 5,
  perAddress: 4,
  windowMs: 60_000,
  concurrentHashes: 2,
  queuedHashes: 1,
};

function refusal(run: () => void): OAuthError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof OAuthError);
    return error;
  }
  assert.fail('not refused');
}

void describe('SignInThrottle', () => {
  void test('one address guessing one client is stopped after its failures, until the window ends', () => {
    const clock = new ManualClock();
    const throttle = new SignInThrottle(clock, LIMITS);
    for (let i = 0; i < 3; i++) {
      throttle.check('app', '10.0.0.1');
      throttle.failed('app', '10.0.0.1');
    }
    clock.advance(20_000);
    const error = refusal(() => throttle.check('app', '10.0.0.1'));
    assert.equal(error.status, 429);
    assert.equal(error.retryAfterSeconds, 40);
    assert.match(
      error.message,
      /Too many failed sign-ins for client 'app' from 10\.0\.0\.1 \(3 in 60 s\); try again in 40 s/,
    );
    // The same client from elsewhere is not locked out by one address's guesses.
    throttle.check('app', '10.0.0.2');
    clock.advance(40_000);
    throttle.check('app', '10.0.0.1');
  });

  const cases: [string, [string, string][], [string, string], RegExp][] = [
    [
      'a client guessed from many addresses',
      [
        ['app', 'a'],
        ['app', 'b'],
        ['app', 'c'],
        ['app', 'd'],
        ['app', 'e'],
      ],
      ['app', 'f'],
      /for client 'app' \(5 in/,
    ],
    [
      'an address spraying many clients',
      [
        ['a', 'x'],
        ['b', 'x'],
        ['c', 'x'],
        ['d', 'x'],
      ],
      ['e', 'x'],
      /from x \(4 in/,
    ],
  ];
  for (const [name, failures, next, expected] of cases) {
    void test(`stops ${name}`, () => {
      const throttle = new SignInThrottle(new ManualClock(), LIMITS);
      for (const [client, address] of failures) throttle.failed(client, address);
      assert.match(refusal(() => throttle.check(...next)).message, expected);
    });
  }

  void test('counts a bounded number of windows and refuses, until they end, whom it cannot count', () => {
    const clock = new ManualClock();
    const throttle = new SignInThrottle(clock, { ...LIMITS, maxWindows: 30 });
    // A flood of made-up client ids, each from its own address: three windows a failure.
    let refused = 0;
    for (let i = 0; i < 20; i++) {
      try {
        throttle.check(`guess-${i}`, `2001:db8::${i}`);
      } catch (error) {
        assert.ok(error instanceof OAuthError && error.status === 429);
        refused += 1;
        continue;
      }
      throttle.failed(`guess-${i}`, `2001:db8::${i}`);
    }
    assert.equal(throttle.size, 30);
    assert.equal(refused, 10);
    clock.advance(10_000);
    const error = refusal(() => throttle.check('app', '10.0.0.9'));
    assert.equal(error.retryAfterSeconds, 50);
    assert.match(
      error.message,
      /Too many failed sign-ins from too many clients and addresses in the last 60 s to count more; try again in 50 s/,
    );
    // Those already counted are still judged by their own windows.
    throttle.check('guess-0', '2001:db8::0');
    clock.advance(50_000);
    throttle.check('app', '10.0.0.9');
    throttle.failed('app', '10.0.0.9');
    assert.equal(throttle.size, 3);
  });

  void test('hashes run at most two at once, one more waits, the rest are refused at once', async () => {
    const throttle = new SignInThrottle(new ManualClock(), LIMITS);
    const releases: (() => void)[] = [];
    let running = 0;
    let most = 0;
    const work = () =>
      throttle.hashing(
        () =>
          new Promise<void>((resolve) => {
            running += 1;
            most = Math.max(most, running);
            releases.push(() => {
              running -= 1;
              resolve();
            });
          }),
      );
    const first = [work(), work(), work()];
    await assert.rejects(
      work(),
      (error: unknown) => error instanceof OAuthError && error.status === 429,
    );
    while (releases.length > 0 || running > 0) {
      releases.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(first);
    assert.equal(most, 2);
  });
});
