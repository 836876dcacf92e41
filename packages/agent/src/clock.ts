// Time as a dependency, so logic that ages things (stale locks, later heartbeats) is testable.
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
