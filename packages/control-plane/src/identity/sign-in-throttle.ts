// Limits on the token endpoint: failed sign-ins per client and per address within a window
// (then 429 with Retry-After, before any hashing), and a bounded number of secret hashes at
// once, so wrong guesses can neither be made quickly nor crowd out real sign-ins.
import type { Clock } from '../clock.js';
import { OAuthError } from './oauth-error.js';

export interface ThrottleLimits {
  /** Failed attempts for one client_id from one address per window. */
  readonly perClientAddress: number;
  /**
   * Failed attempts for one client_id from everywhere per window: higher, so that one address
   * guessing cannot lock a client (a machine, say) out everywhere.
   */
  readonly perClient: number;
  /** Failed attempts one address may make per window, over all clients. */
  readonly perAddress: number;
  readonly windowMs: number;
  /** Secret hashes computed at once, and how many more may wait for a turn. */
  readonly concurrentHashes: number;
  readonly queuedHashes: number;
}

export const DEFAULT_THROTTLE_LIMITS: ThrottleLimits = Object.freeze({
  perClientAddress: 10,
  perClient: 100,
  perAddress: 30,
  windowMs: 60_000,
  concurrentHashes: 4,
  queuedHashes: 64,
});

/** Past this many keys, windows that have ended are forgotten. */
const PRUNE_AT = 10_000;

interface Window {
  start: number;
  failures: number;
}

export class SignInThrottle {
  private readonly windows = new Map<string, Window>();
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly limits: ThrottleLimits = DEFAULT_THROTTLE_LIMITS,
    /** What the first key names in refusals: a 'client' (application) or an 'account' (person). */
    private readonly noun: 'client' | 'account' = 'client',
  ) {}

  /** Throws 429 when the client or the address has used its failures for this window. */
  check(clientId: string, address: string): void {
    for (const [key, limit, who] of this.keys(clientId, address)) {
      const window = this.current(key);
      if (window !== undefined && window.failures >= limit) {
        const retryAfter = Math.max(
          1,
          Math.ceil((window.start + this.limits.windowMs - this.clock.now()) / 1000),
        );
        throw new OAuthError(
          'temporarily_unavailable',
          50053,
          `Too many failed sign-ins ${who} (${window.failures} in ${this.limits.windowMs / 1000} s); try again in ${retryAfter} s.`,
          retryAfter,
        );
      }
    }
  }

  failed(clientId: string, address: string): void {
    const now = this.clock.now();
    if (this.windows.size > PRUNE_AT) this.prune(now);
    for (const [key] of this.keys(clientId, address)) {
      const window = this.current(key);
      if (window === undefined) this.windows.set(key, { start: now, failures: 1 });
      else window.failures += 1;
    }
  }

  /** Runs a hash when a slot is free; refuses at once when too many already wait. */
  async hashing<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.limits.concurrentHashes) {
      if (this.waiting.length >= this.limits.queuedHashes) {
        throw new OAuthError(
          'temporarily_unavailable',
          90055,
          'The token service is busy checking other sign-ins; try again in 1 s.',
          1,
        );
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running += 1;
    }
    try {
      return await work();
    } finally {
      // Hand the slot straight to the next in line, or give it back.
      const next = this.waiting.shift();
      if (next === undefined) this.running -= 1;
      else next();
    }
  }

  private keys(clientId: string, address: string): [string, number, string][] {
    const client = clientId.toLowerCase().slice(0, 100);
    const named = `for ${this.noun} '${clientId.slice(0, 100)}'`;
    return [
      [`pair:${client}@${address}`, this.limits.perClientAddress, `${named} from ${address}`],
      [`client:${client}`, this.limits.perClient, named],
      [`address:${address}`, this.limits.perAddress, `from ${address}`],
    ];
  }

  private current(key: string): Window | undefined {
    const window = this.windows.get(key);
    if (window === undefined) return undefined;
    const now = this.clock.now();
    // A clock stepped back (NTP, or a test) starts a new window rather than stretching one.
    if (now < window.start || window.start + this.limits.windowMs <= now) {
      this.windows.delete(key);
      return undefined;
    }
    return window;
  }

  private prune(now: number): void {
    for (const [key, window] of this.windows) {
      if (window.start + this.limits.windowMs <= now) this.windows.delete(key);
    }
  }
}
