// Exponential backoff with full jitter: after the n-th consecutive failure wait a random time in
// [0, min(cap, base * 2^n)), so many agents do not hammer a recovering control plane together.
export interface BackoffPolicy {
  readonly baseMs: number;
  readonly capMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1_000, capMs: 5 * 60_000 };

/** `random` returns [0, 1); injected so tests are deterministic. */
export function fullJitterDelay(
  failures: number,
  policy: BackoffPolicy,
  random: () => number,
): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(failures, 30));
  return Math.floor(random() * ceiling);
}
