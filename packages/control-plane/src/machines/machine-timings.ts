// How often agents report, when silence means Disconnected or Expired, and how long machine
// credentials live, how long extension requests wait for them: one place for the defaults, overridable through the server options.
const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

export interface MachineTimings {
  /** Told to agents in every heartbeat answer; they add jitter of their own. */
  heartbeatIntervalMs: number;
  /** Silence after which a machine shows Disconnected. */
  disconnectAfterMs: number;
  /** Silence after which a machine is Expired and only re-onboarding brings it back. */
  expireAfterMs: number;
  /** Lifetime of a machine's public-key credential. */
  credentialLifetimeMs: number;
  /** How long the replaced key keeps working after a rotation, for calls in flight. */
  rotationGraceMs: number;
  /** How long an extension operation may wait for its machine before it fails (B7). */
  extensionRequestTimeoutMs: number;
}

export const DEFAULT_MACHINE_TIMINGS: Readonly<MachineTimings> = Object.freeze({
  heartbeatIntervalMs: 5 * MINUTE_MS,
  disconnectAfterMs: 15 * MINUTE_MS,
  expireAfterMs: 45 * DAY_MS,
  credentialLifetimeMs: 90 * DAY_MS,
  rotationGraceMs: 10 * MINUTE_MS,
  extensionRequestTimeoutMs: 6 * 60 * MINUTE_MS,
});

/** Defaults with `overrides` applied; every value must be a positive number of milliseconds. */
export function machineTimings(overrides: Partial<MachineTimings> = {}): Readonly<MachineTimings> {
  const merged = { ...DEFAULT_MACHINE_TIMINGS, ...overrides };
  for (const [name, value] of Object.entries(merged)) {
    if (!Number.isFinite(value) || value <= 0) {
      throw new RangeError(`machine timing '${name}' must be a positive number of milliseconds`);
    }
  }
  return Object.freeze(merged);
}
