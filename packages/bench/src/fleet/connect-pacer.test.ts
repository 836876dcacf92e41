// The connect ramp: starts spaced at the rate, halved on busy answers and eased on slow ones
// (once a second however many arrive), grown back on quick ones, within its bounds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConnectPacer } from './connect-pacer.js';

function pacer(max: number, min: number): { pacer: ConnectPacer; clock: { t: number } } {
  const clock = { t: 0 };
  return {
    clock,
    pacer: new ConnectPacer({
      maxPerSecond: max,
      minPerSecond: min,
      now: () => clock.t,
      sleep: (ms) => {
        clock.t += ms;
        return Promise.resolve();
      },
    }),
  };
}

void test('starts are spaced at the rate', async () => {
  const { pacer: p, clock } = pacer(100, 1);
  for (let i = 0; i < 50; i++) await p.slot();
  assert.equal(Math.round(clock.t), 490, 'the 50th start 49 gaps of 10 ms after the first');
});

void test('busy halves the rate once a second, down to the floor; quick answers grow it back', () => {
  const { pacer: p, clock } = pacer(100, 10);
  p.busy();
  p.busy();
  assert.equal(p.rate, 50, 'a burst of 503s counts once');
  clock.t += 1000;
  p.busy();
  clock.t += 1000;
  p.busy();
  clock.t += 1000;
  p.busy();
  assert.equal(p.rate, 10, 'never under the floor');
  clock.t += 1000;
  p.answered(5000);
  assert.equal(p.rate, 10);
  for (let i = 0; i < 40; i++) {
    clock.t += 1000;
    p.answered(50);
  }
  assert.equal(p.rate, 100, 'back to the cap, not past it');
  clock.t += 1000;
  p.answered(5000);
  assert.equal(p.rate, 90, 'a slow answer eases it by a tenth');
  assert.throws(() => new ConnectPacer({ maxPerSecond: 0, minPerSecond: 1 }), /above 0/);
});
