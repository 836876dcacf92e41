// Limits on the token endpoint: failed sign-ins per client and per address within a window
// (then 429 with Retry-After, before any hashing), and a bounded number of secret hashes at
// once, so wrong guesses can neither be made quickly nor crowd out real sign-ins. The count it
// keeps is bounded too: past that, clients and addresses it cannot count are refused. Shared by
// several nodes, it counts in memory what every node publishes, and keeps every failure in the
// database too, which a node reads back when it starts and after losing notifications.
import type { Clock } from '../clock.js';
import type { ClusterChannel } from '../cluster/cluster-channel.js';
import { OAuthError } from './oauth-error.js';
import type { SignInFailureStore } from './sign-in-failure-store.js';

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
  /**
   * Windows counted at once (each about 200 bytes). Every failure from a new client or address
   * adds some, so without a bound a flood of made-up client ids from many addresses (an IPv6
   * /64 holds 2^64) grows memory without end.
   */
  readonly maxWindows?: number;
}

export const DEFAULT_THROTTLE_LIMITS: ThrottleLimits = Object.freeze({
  perClientAddress: 10,
  perClient: 100,
  perAddress: 30,
  windowMs: 60_000,
  concurrentHashes: 4,
  queuedHashes: 64,
  maxWindows: 100_000,
});

const DEFAULT_MAX_WINDOWS = 100_000;

/** Every this many failures stored, the windows that have ended are deleted. */
const PRUNE_EVERY = 1_000;

interface Window {
  start: number;
  failures: number;
}

export class SignInThrottle {
  private readonly windows = new Map<string, Window>();
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private shared:
    { channel: ClusterChannel; name: string; store: SignInFailureStore | undefined } | undefined;
  /** Set while the counts are to be read back from the store (at start, after a lost channel). */
  private reading: Promise<void> | undefined;
  private stale = false;
  private stored = 0;

  constructor(
    private readonly clock: Clock,
    private readonly limits: ThrottleLimits = DEFAULT_THROTTLE_LIMITS,
    /** What the first key names in refusals: a 'client' (application) or an 'account' (person). */
    private readonly noun: 'client' | 'account' = 'client',
  ) {}

  /**
   * Throws 429 when the client or the address has used its failures for this window, or when
   * the throttle counts as many windows as it may and this client or address has none: failing
   * closed, since its failures could not be counted. A shared throttle first reads back the
   * counts it may have missed; until it can, every sign-in is refused (the store's error).
   */
  async check(clientId: string, address: string): Promise<void> {
    await this.readBack();
    const full = this.full(this.clock.now());
    for (const [key, limit, who] of this.keys(clientId, address)) {
      const window = this.current(key);
      if (window === undefined && full) throw this.tooManyToCount();
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

  /** Counts a failure here, on the other nodes, and in the store (whose error it passes on). */
  async failed(clientId: string, address: string): Promise<void> {
    this.count(clientId, address);
    const shared = this.shared;
    if (shared === undefined) return;
    shared.channel.publish('sign-in-failure', JSON.stringify([shared.name, clientId, address]));
    if (shared.store === undefined) return;
    const now = this.clock.now();
    const keys = this.keys(clientId, address).map(([key]) => key);
    await shared.store.add(shared.name, keys, now, this.limits.windowMs);
    this.stored += 1;
    if (this.stored % PRUNE_EVERY === 0) {
      await shared.store.prune(shared.name, now, this.limits.windowMs);
    }
  }

  /**
   * Counts the failures every node of the control plane sees, so that spreading guesses over
   * the nodes behind a load balancer gains nothing: each node publishes its own failures and
   * counts the others'. `name` tells this throttle's failures from other throttles'. With a
   * store, every failure is kept there too, and read back before the first check and after the
   * channel was lost, when notifications may have been missed: a node started during a window,
   * or cut from the others for a while, still counts every failure of that window.
   */
  share(channel: ClusterChannel, name: string, store?: SignInFailureStore): this {
    this.shared = { channel, name, store };
    channel.subscribe('sign-in-failure', (payload, origin) => {
      if (origin === 'local') return;
      const failure = parseFailure(payload);
      if (failure?.[0] === name) this.count(failure[1], failure[2]);
    });
    if (store !== undefined) {
      this.stale = true;
      channel.onReset({
        lost: () => (this.stale = true),
        resync: async () => {
          await this.reading?.catch(() => undefined);
          this.stale = true;
          await this.readBack();
        },
      });
    }
    return this;
  }

  /** Replaces the counts with the store's when they may have missed failures; one read at once. */
  private async readBack(): Promise<void> {
    const store = this.shared?.store;
    if (store === undefined || !this.stale) return;
    this.reading ??= (async () => {
      try {
        const now = this.clock.now();
        const open = await store.open(
          this.shared!.name,
          now,
          this.limits.windowMs,
          this.limits.maxWindows ?? DEFAULT_MAX_WINDOWS,
        );
        this.windows.clear();
        for (const window of open) {
          this.windows.set(window.key, { start: window.start, failures: window.failures });
        }
        this.stale = false;
      } finally {
        this.reading = undefined;
      }
    })();
    await this.reading;
  }

  private count(clientId: string, address: string): void {
    const now = this.clock.now();
    for (const [key] of this.keys(clientId, address)) {
      const window = this.current(key);
      if (window !== undefined) window.failures += 1;
      // When full, the key stays uncounted, and check() refuses it until windows end.
      else if (!this.full(now)) this.windows.set(key, { start: now, failures: 1 });
    }
  }

  /** Windows counted now (for tests and metrics). */
  get size(): number {
    return this.windows.size;
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

  /** Whether no window can be added, after forgetting those that have ended. */
  private full(now: number): boolean {
    const max = this.limits.maxWindows ?? DEFAULT_MAX_WINDOWS;
    if (this.windows.size < max) return false;
    this.prune(now);
    return this.windows.size >= max;
  }

  /**
   * Windows are added when they start, so the map holds them oldest first: ended ones are
   * dropped from the front until the first live one, never by a scan of every window (which,
   * run for each failure, made a flood of failures cost time in proportion to its size).
   */
  private prune(now: number): void {
    for (const [key, window] of this.windows) {
      if (now >= window.start && window.start + this.limits.windowMs > now) return;
      this.windows.delete(key);
    }
  }

  private tooManyToCount(): OAuthError {
    const oldest = this.windows.values().next();
    const ends =
      oldest.done === true ? this.clock.now() : oldest.value.start + this.limits.windowMs;
    const retryAfter = Math.max(1, Math.ceil((ends - this.clock.now()) / 1000));
    return new OAuthError(
      'temporarily_unavailable',
      50053,
      `Too many failed sign-ins from too many ${this.noun}s and addresses in the last ${this.limits.windowMs / 1000} s to count more; try again in ${retryAfter} s.`,
      retryAfter,
    );
  }
}

function parseFailure(payload: string): [string, string, string] | undefined {
  try {
    const value: unknown = JSON.parse(payload);
    if (
      Array.isArray(value) &&
      value.length === 3 &&
      value.every((part): part is string => typeof part === 'string')
    ) {
      return [value[0] as string, value[1] as string, value[2] as string];
    }
  } catch {
    // not a failure this version publishes
  }
  return undefined;
}
