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

/** A Retry-After longer than this is taken as this: a control plane cannot park an agent. */
export const RETRY_AFTER_CAP_MS = 10 * 60_000;

/**
 * The wait a `Retry-After` header asks for (delta-seconds or an HTTP date, RFC 9110), spread
 * over [asked, 1.5 × asked) so that the agents turned away together come back apart, and never
 * more than `capMs`. Undefined when there is no header or it says nothing usable: the caller's
 * own backoff applies.
 */
export function retryAfterDelay(
  header: string | undefined,
  now: number,
  random: () => number,
  capMs = RETRY_AFTER_CAP_MS,
): number | undefined {
  if (header === undefined) return undefined;
  const text = header.trim();
  let askedMs: number;
  if (/^\d{1,9}$/.test(text)) {
    askedMs = Number(text) * 1000;
  } else {
    const at = Date.parse(text);
    if (Number.isNaN(at) || !/[a-z]/i.test(text)) return undefined;
    askedMs = Math.max(0, at - now);
  }
  return Math.min(capMs, Math.floor(askedMs * (1 + random() / 2)));
}

/**
 * `error`, carrying the `Retry-After` of the 503 or 429 answer it was made from, for the loop
 * that catches it to wait as asked (retryAfterOf). Other answers carry nothing.
 */
export function withRetryAfter<E extends Error>(
  error: E,
  status: number,
  header: string | readonly string[] | undefined,
): E {
  const value = typeof header === 'string' ? header : header?.[0];
  if ((status === 503 || status === 429) && value !== undefined) {
    Object.defineProperty(error, 'retryAfter', { value, enumerable: false });
  }
  return error;
}

/** The Retry-After an error carries (withRetryAfter), if any. */
export function retryAfterOf(error: unknown): string | undefined {
  const value = error instanceof Error ? (error as { retryAfter?: unknown }).retryAfter : undefined;
  return typeof value === 'string' ? value : undefined;
}
