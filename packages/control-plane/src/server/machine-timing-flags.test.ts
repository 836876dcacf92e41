// `tether server`'s machine timing flags: defaults, accepted values, and refusals that name the
// flag and keep the thresholds ordered.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isTetherError } from '@tether/protocol';
import { DEFAULT_MACHINE_TIMINGS } from '../machines/machine-timings.js';
import { MACHINE_TIMING_FLAG_DEFAULTS, parseMachineTimingFlags } from './machine-timing-flags.js';

function refusal(flag: string, pattern: RegExp) {
  return (error: unknown) => {
    assert.ok(isTetherError(error));
    assert.equal(error.code, 'ERR_SERVER_CONFIG');
    assert.equal(error.target, flag);
    assert.match(error.message, pattern);
    return true;
  };
}

void describe('parseMachineTimingFlags', () => {
  void it('gives the documented defaults for the default flags', () => {
    const parsed = parseMachineTimingFlags(MACHINE_TIMING_FLAG_DEFAULTS);
    assert.equal(parsed.heartbeatIntervalMs, DEFAULT_MACHINE_TIMINGS.heartbeatIntervalMs);
    assert.equal(parsed.disconnectAfterMs, DEFAULT_MACHINE_TIMINGS.disconnectAfterMs);
    assert.equal(parsed.expireAfterMs, DEFAULT_MACHINE_TIMINGS.expireAfterMs);
    assert.equal(parsed.rotationGraceMs, DEFAULT_MACHINE_TIMINGS.rotationGraceMs);
    assert.equal(
      parsed.extensionRequestTimeoutMs,
      DEFAULT_MACHINE_TIMINGS.extensionRequestTimeoutMs,
    );
    assert.equal(parsed.extensionRequestTimeoutMs, 6 * 3_600_000);
  });

  void it('accepts short timings for tests and demos', () => {
    assert.deepEqual(
      parseMachineTimingFlags({
        heartbeatInterval: '1s',
        disconnectAfter: '3s',
        expireAfter: '1h',
        rotationGrace: '2s',
        extensionRequestTimeout: '30s',
      }),
      {
        heartbeatIntervalMs: 1000,
        disconnectAfterMs: 3000,
        expireAfterMs: 3_600_000,
        rotationGraceMs: 2000,
        extensionRequestTimeoutMs: 30_000,
      },
    );
  });

  const table: [
    string,
    Partial<Record<keyof typeof MACHINE_TIMING_FLAG_DEFAULTS, string>>,
    RegExp,
  ][] = [
    ['--heartbeat-interval', { heartbeatInterval: '5 minutes' }, /"5 minutes" is not valid/],
    ['--heartbeat-interval', { heartbeatInterval: '0s' }, /at least 1 seconds/],
    ['--disconnect-after', { disconnectAfter: '-1m' }, /"-1m" is not valid/],
    ['--expire-after', { expireAfter: '45' }, /whole number with s, m, h or d/],
    ['--rotation-grace', { rotationGrace: '' }, /"" is not valid/],
    [
      '--extension-request-timeout',
      { extensionRequestTimeout: '6 hours' },
      /"6 hours" is not valid/,
    ],
    ['--disconnect-after', { disconnectAfter: '5m' }, /longer than --heartbeat-interval "5m"/],
    [
      '--disconnect-after',
      { heartbeatInterval: '20m' },
      /"15m" must be longer than --heartbeat-interval "20m"/,
    ],
    ['--expire-after', { expireAfter: '15m' }, /longer than --disconnect-after "15m"/],
  ];
  for (const [flag, change, pattern] of table) {
    void it(`refuses ${flag} ${JSON.stringify(change)}`, () => {
      assert.throws(
        () => parseMachineTimingFlags({ ...MACHINE_TIMING_FLAG_DEFAULTS, ...change }),
        refusal(flag, pattern),
      );
    });
  }
});
