import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { fuzzTarget } from './fuzz-target.js';
import { runTarget, YIELD_EVERY } from './run-target.js';

/** A target whose inputs "take" the milliseconds `cost` says, on a clock it moves itself. */
function timedTarget(cost: (input: number, call: number) => number) {
  let time = 0;
  const calls = new Map<number, number>();
  const target = fuzzTarget('timed', 'a parser that takes time', () => ({
    arbitrary: fc.integer({ min: 0, max: 9 }),
    check: (input: number) => {
      const call = (calls.get(input) ?? 0) + 1;
      calls.set(input, call);
      time += cost(input, call);
      return undefined;
    },
  }));
  return { target, now: () => time };
}

void describe('runTarget', () => {
  void it('counts an input slow every time as a hang, and one slow only once as a stall', async () => {
    // Input 7 is always slow; every other input is slow the first time it is seen.
    const { target, now } = timedTarget((input, call) => (input === 7 || call === 1 ? 5_000 : 1));
    const report = await runTarget(target, { runs: 300, seed: 1, perInputMs: 1_000 }, now);
    assert.equal(report.inputs, 300);
    assert.ok(report.hangs > 0);
    assert.equal(report.stalls, 9);
    assert.match(report.examples[0]?.finding ?? '', /^hang: 5000 ms, and 5000 ms when sent again$/);
    assert.equal(report.examples[0]?.input, '7');
  });

  void it('lets the event loop run between inputs, so callbacks a parser queues do not pile up', async () => {
    let queued = 0;
    let ran = 0;
    let most = 0;
    const target = fuzzTarget('queues', 'a parser that queues work for later', () => ({
      arbitrary: fc.integer(),
      check: () => {
        queued += 1;
        most = Math.max(most, queued - ran);
        setImmediate(() => (ran += 1));
        return undefined;
      },
    }));
    await runTarget(target, { runs: 1_000, seed: 1, perInputMs: 1_000 }, () => 0);
    assert.ok(most <= YIELD_EVERY, `${most} callbacks were waiting at once`);
  });
});
