// The token endpoint's limits: failures per client and address, per client, per address, each
// for one window; and a bounded number of secret hashes at once.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../clock.js';
import {
  Subscribers,
  type ClusterChannel,
  type ClusterTopic,
  type TopicListener,
} from '../cluster/cluster-channel.js';
import { testBackends, type TestDatabase } from '../store/testing/test-databases.js';
import { OAuthError } from './oauth-error.js';
import { SignInFailureStore } from './sign-in-failure-store.js';
import { SignInThrottle, type ThrottleLimits } from './sign-in-throttle.js';

const LIMITS: ThrottleLimits = {
  perClientAddress: 3,
  perClient: 5,
  perAddress: 4,
  windowMs: 60_000,
  concurrentHashes: 2,
  queuedHashes: 1,
};

async function refusal(run: () => Promise<void>): Promise<OAuthError> {
  try {
    await run();
  } catch (error) {
    assert.ok(error instanceof OAuthError);
    return error;
  }
  assert.fail('not refused');
}

void describe('SignInThrottle', () => {
  void test('one address guessing one client is stopped after its failures, until the window ends', async () => {
    const clock = new ManualClock();
    const throttle = new SignInThrottle(clock, LIMITS);
    for (let i = 0; i < 3; i++) {
      await throttle.check('app', '10.0.0.1');
      await throttle.failed('app', '10.0.0.1');
    }
    clock.advance(20_000);
    const error = await refusal(() => throttle.check('app', '10.0.0.1'));
    assert.equal(error.status, 429);
    assert.equal(error.retryAfterSeconds, 40);
    assert.match(
      error.message,
      /Too many failed sign-ins for client 'app' from 10\.0\.0\.1 \(3 in 60 s\); try again in 40 s/,
    );
    // The same client from elsewhere is not locked out by one address's guesses.
    await throttle.check('app', '10.0.0.2');
    clock.advance(40_000);
    await throttle.check('app', '10.0.0.1');
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
    void test(`stops ${name}`, async () => {
      const throttle = new SignInThrottle(new ManualClock(), LIMITS);
      for (const [client, address] of failures) await throttle.failed(client, address);
      assert.match((await refusal(() => throttle.check(...next))).message, expected);
    });
  }

  void test('counts a bounded number of windows and refuses, until they end, whom it cannot count', async () => {
    const clock = new ManualClock();
    const throttle = new SignInThrottle(clock, { ...LIMITS, maxWindows: 30 });
    // A flood of made-up client ids, each from its own address: three windows a failure.
    let refused = 0;
    for (let i = 0; i < 20; i++) {
      try {
        await throttle.check(`guess-${i}`, `2001:db8::${i}`);
      } catch (error) {
        assert.ok(error instanceof OAuthError && error.status === 429);
        refused += 1;
        continue;
      }
      await throttle.failed(`guess-${i}`, `2001:db8::${i}`);
    }
    assert.equal(throttle.size, 30);
    assert.equal(refused, 10);
    clock.advance(10_000);
    const error = await refusal(() => throttle.check('app', '10.0.0.9'));
    assert.equal(error.retryAfterSeconds, 50);
    assert.match(
      error.message,
      /Too many failed sign-ins from too many clients and addresses in the last 60 s to count more; try again in 50 s/,
    );
    // Those already counted are still judged by their own windows.
    await throttle.check('guess-0', '2001:db8::0');
    clock.advance(50_000);
    await throttle.check('app', '10.0.0.9');
    await throttle.failed('app', '10.0.0.9');
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

/**
 * A node's channel that hears nothing from the other nodes, as when every notification is
 * lost; `reconnect()` is its listening connection coming back.
 */
class DeafChannel implements ClusterChannel {
  subscribed = true;
  readonly leader = false;
  private readonly subscribers = new Subscribers();
  private readonly resets: { lost?: () => void; resync?: () => Promise<void> }[] = [];

  publish(topic: ClusterTopic, payload: string): void {
    this.subscribers.deliver(topic, payload, 'local');
  }

  subscribe(topic: ClusterTopic, listener: TopicListener): () => void {
    return this.subscribers.add(topic, listener);
  }

  onReset(handlers: { lost?: () => void; resync?: () => Promise<void> }): void {
    this.resets.push(handlers);
  }

  onLeadership(): void {
    // never leads
  }

  async reconnect(): Promise<void> {
    this.subscribed = false;
    for (const reset of this.resets) reset.lost?.();
    for (const reset of this.resets) await reset.resync?.();
    this.subscribed = true;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

for (const backend of testBackends()) {
  void describe(`SignInThrottle shared through the ${backend.name} store`, () => {
    let database: TestDatabase;
    before(async () => {
      database = await backend.open();
    });
    after(() => database.dispose());

    const node = (clock: ManualClock, channel = new DeafChannel()) =>
      new SignInThrottle(clock, LIMITS).share(
        channel,
        'client',
        new SignInFailureStore(database.db),
      );

    void test('a node that heard no notification still counts every node’s failures', async () => {
      const clock = new ManualClock();
      const a = node(clock);
      for (let i = 0; i < 3; i++) {
        await a.check('shared-app', '10.1.0.1');
        await a.failed('shared-app', '10.1.0.1');
      }
      // Started after those failures, with nothing heard from node A.
      const b = node(clock);
      clock.advance(15_000);
      const error = await refusal(() => b.check('shared-app', '10.1.0.1'));
      assert.equal(error.status, 429);
      assert.equal(error.retryAfterSeconds, 45);

      // Running all along, but its notifications lost: it reads the counts back on reconnecting.
      const channel = new DeafChannel();
      const c = node(clock, channel);
      await c.check('other-app', '10.1.0.2');
      for (let i = 0; i < 3; i++) await a.failed('other-app', '10.1.0.2');
      await c.check('other-app', '10.1.0.2');
      await channel.reconnect();
      await refusal(() => c.check('other-app', '10.1.0.2'));
      // Other clients and addresses are not refused; every window ends in its time.
      await c.check('third-app', '10.1.0.3');
      clock.advance(60_000);
      await node(clock).check('other-app', '10.1.0.2');
      await channel.reconnect();
      await c.check('other-app', '10.1.0.2');
    });

    void test('a window that ended starts again at one failure', async () => {
      const clock = new ManualClock();
      const a = node(clock);
      for (let i = 0; i < 3; i++) await a.failed('again-app', '10.2.0.1');
      clock.advance(60_000);
      await a.failed('again-app', '10.2.0.1');
      await node(clock).check('again-app', '10.2.0.1');
      await a.failed('again-app', '10.2.0.1');
      await a.failed('again-app', '10.2.0.1');
      await refusal(() => node(clock).check('again-app', '10.2.0.1'));
    });
  });
}
