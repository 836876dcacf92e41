// The simulator's connect ramp: machines that start (a token, a first long poll on a connection
// of its own) do so at a capped rate, shared by the simulator's processes, that adapts as a
// congestion window does — halved when the node answers 503 busy, eased when its answers come
// slowly, and grown back while they come quickly — so that a fleet of 100,000 joins a node as
// fast as the node takes it rather than as fast as it can be turned away.
export interface PacerOptions {
  /** Starts per second at most (this process's share of the fleet's rate). */
  readonly maxPerSecond: number;
  /** Never slower than this, however busy the node says it is. */
  readonly minPerSecond: number;
  /** An answer slower than this eases the rate. */
  readonly slowMs?: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** How often the rate may change: one decision per second, not one per answer of a burst. */
const ADJUST_EVERY_MS = 1_000;
const SLOW_MS = 2_000;

export class ConnectPacer {
  #rate: number;
  #next = 0;
  #lastChange = -Infinity;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: PacerOptions) {
    if (!(options.maxPerSecond > 0) || !(options.minPerSecond > 0)) {
      throw new Error('connect rates must be above 0');
    }
    this.#rate = options.maxPerSecond;
    this.#now = options.now ?? (() => performance.now());
    this.#sleep =
      options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms).unref()));
  }

  /** Starts per second now. */
  get rate(): number {
    return this.#rate;
  }

  /** Resolves when the caller may start its next machine. */
  async slot(): Promise<void> {
    const now = this.#now();
    const at = Math.max(now, this.#next);
    this.#next = at + 1000 / this.#rate;
    if (at > now) await this.#sleep(at - now);
  }

  /** The node answered 503 busy: half the rate. */
  busy(): void {
    this.#adjust(0.5);
  }

  /** An answer to a start came back after `ms`: slow ones ease the rate, quick ones grow it. */
  answered(ms: number): void {
    if (ms > (this.options.slowMs ?? SLOW_MS)) this.#adjust(0.9);
    else this.#grow();
  }

  #adjust(factor: number): void {
    const now = this.#now();
    if (now - this.#lastChange < ADJUST_EVERY_MS) return;
    this.#lastChange = now;
    this.#rate = Math.max(this.options.minPerSecond, this.#rate * factor);
  }

  /** A twentieth of the cap back per second of quick answers. */
  #grow(): void {
    const now = this.#now();
    if (now - this.#lastChange < ADJUST_EVERY_MS) return;
    this.#lastChange = now;
    this.#rate = Math.min(this.options.maxPerSecond, this.#rate + this.options.maxPerSecond / 20);
  }
}
