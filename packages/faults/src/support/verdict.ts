// What a fault found: figures to print, and the promises it broke (a fault with any fails).
export class Verdict {
  readonly figures: [string, string][] = [];
  readonly broken: string[] = [];

  constructor(readonly fault: string) {}

  figure(name: string, value: string | number): void {
    this.figures.push([name, String(value)]);
  }

  expect(ok: boolean, promise: string): void {
    if (!ok) this.broken.push(promise);
  }

  print(): void {
    console.log(`\n## fault: ${this.fault} — ${this.broken.length === 0 ? 'held' : 'BROKEN'}`);
    const width = Math.max(...this.figures.map(([name]) => name.length), 0);
    for (const [name, value] of this.figures) console.log(`${name.padEnd(width)} | ${value}`);
    for (const promise of this.broken) console.log(`BROKEN: ${promise}`);
  }
}

/** Acknowledged heartbeats (when sent) the database does not hold (its last is older). */
export function lostHeartbeats(
  acknowledged: ReadonlyMap<string, number>,
  onRecord: ReadonlyMap<string, number>,
): string[] {
  const lost: string[] = [];
  for (const [name, sentAt] of acknowledged) {
    const at = onRecord.get(name);
    if (at === undefined || at < sentAt) {
      lost.push(
        `${name}: heartbeat sent ${new Date(sentAt).toISOString()} was answered 200, the database's last is ${at === undefined ? 'none' : new Date(at).toISOString()}`,
      );
    }
  }
  return lost;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until `ready()` holds, checking every 200 ms; false after `timeoutMs`. */
export async function waitFor(ready: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await ready()) return true;
    await sleep(200);
  }
  return false;
}

export interface FaultOptions {
  /** The short form CI runs: fewer machines, shorter load. */
  readonly short: boolean;
}
