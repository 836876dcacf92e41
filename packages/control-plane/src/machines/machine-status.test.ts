// Status derivation against a ManualClock: Connected, Disconnected after 15 minutes of
// silence, Expired after 45 days, a lapsed key or a revocation, with lastStatusChange.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../clock.js';
import { deriveMachineStatus, type MachineStatusInput } from './machine-status.js';
import { DEFAULT_MACHINE_TIMINGS, machineTimings } from './machine-timings.js';

const MIN = 60_000;
const DAY = 86_400_000;

void describe('deriveMachineStatus', () => {
  const clock = new ManualClock();
  const t0 = clock.now();
  const base: MachineStatusInput = {
    onboardedAt: t0,
    lastHeartbeatAt: undefined,
    connectedSince: undefined,
    credentialExpiresAt: t0 + 90 * DAY,
    revokedAt: undefined,
  };
  const at = (input: MachineStatusInput, now: number) =>
    deriveMachineStatus(input, now, DEFAULT_MACHINE_TIMINGS);

  void it('is Disconnected since onboarding until the first heartbeat', () => {
    assert.deepEqual(at(base, t0 + MIN), { status: 'Disconnected', lastStatusChange: t0 });
  });

  void it('is Connected since the start of a gap-free run, Disconnected 15 minutes after the last heartbeat', () => {
    const beating = { ...base, lastHeartbeatAt: t0 + 10 * MIN, connectedSince: t0 + MIN };
    assert.deepEqual(at(beating, t0 + 20 * MIN), {
      status: 'Connected',
      lastStatusChange: t0 + MIN,
    });
    assert.deepEqual(at(beating, t0 + 25 * MIN), {
      status: 'Disconnected',
      lastStatusChange: t0 + 25 * MIN,
    });
  });

  void it('is Expired 45 days after the last contact, and only then', () => {
    const beating = { ...base, lastHeartbeatAt: t0, connectedSince: t0 };
    assert.equal(at(beating, t0 + 45 * DAY - 1).status, 'Disconnected');
    assert.deepEqual(at(beating, t0 + 45 * DAY), {
      status: 'Expired',
      lastStatusChange: t0 + 45 * DAY,
    });
  });

  void it('is Expired when the credential lapses or is revoked, even while heartbeating', () => {
    const now = t0 + 5 * MIN;
    const beating = { ...base, lastHeartbeatAt: now, connectedSince: t0 };
    assert.deepEqual(at({ ...beating, credentialExpiresAt: t0 + MIN }, now), {
      status: 'Expired',
      lastStatusChange: t0 + MIN,
    });
    assert.deepEqual(at({ ...beating, revokedAt: t0 + 2 * MIN }, now), {
      status: 'Expired',
      lastStatusChange: t0 + 2 * MIN,
    });
  });

  void it('follows configured timings, and refuses nonsense ones', () => {
    const fast = machineTimings({ disconnectAfterMs: MIN });
    const beating = { ...base, lastHeartbeatAt: t0, connectedSince: t0 };
    assert.equal(deriveMachineStatus(beating, t0 + MIN, fast).status, 'Disconnected');
    assert.throws(() => machineTimings({ expireAfterMs: 0 }), /expireAfterMs/);
  });
});
