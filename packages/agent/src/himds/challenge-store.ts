// The HIMDS file challenge (S16): a fresh secret in var/opt/azcmagent/tokens/<random>.key,
// readable by root and the himds group only, accepted once within 60 s, then removed. The file
// system work happens off the request path: once a challenge is redeemed and answered, its file
// is removed and the next challenge's file written ahead (one spare, as private as any handed
// out).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, fchmodSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../clock.js';

export const CHALLENGE_LIFETIME_MS = 60_000;

interface ChallengeFile {
  readonly path: string;
  readonly secret: Buffer;
}

interface Pending extends ChallengeFile {
  readonly expiresAt: number;
}

/** Runs file work after the current answer is written; setImmediate in the service. */
export type Defer = (task: () => void) => void;

export class ChallengeStore {
  private readonly pending = new Map<string, Pending>();
  private spare: ChallengeFile | undefined;
  private closed = false;

  constructor(
    private readonly tokensDir: string,
    private readonly clock: Clock,
    private readonly defer: Defer = (task) => setImmediate(task),
  ) {}

  /** Hands out a challenge file and returns its absolute path (the `realm`). */
  create(): string {
    this.sweep();
    const file = this.spare ?? writeChallengeFile(this.tokensDir);
    this.spare = undefined;
    // Its 60 seconds start now, when a caller learns its name.
    this.pending.set(file.secret.toString('utf8'), {
      ...file,
      expiresAt: this.clock.now() + CHALLENGE_LIFETIME_MS,
    });
    return file.path;
  }

  private refill(): void {
    if (this.closed || this.spare !== undefined) return;
    try {
      this.spare = writeChallengeFile(this.tokensDir);
    } catch {
      // The next create() writes its own file and reports a failure to its caller.
    }
  }

  /** True once for a live secret; the file is removed whatever the outcome for that secret. */
  redeem(presented: string): boolean {
    this.sweep();
    const candidate = Buffer.from(presented, 'utf8');
    for (const [key, entry] of this.pending) {
      if (entry.secret.length === candidate.length && timingSafeEqual(entry.secret, candidate)) {
        this.pending.delete(key);
        // Useless from here on (no longer pending); removed once the answer is on its way.
        // The next flow's file is written then too, between one caller's flow and the next.
        this.defer(() => {
          removeNow(entry.path);
          this.refill();
        });
        return entry.expiresAt > this.clock.now();
      }
    }
    return false;
  }

  /** Removes expired challenges; called on every use and by a timer. */
  sweep(): void {
    const now = this.clock.now();
    for (const [key, entry] of this.pending) {
      if (entry.expiresAt <= now) {
        this.pending.delete(key);
        removeNow(entry.path);
      }
    }
  }

  /** On shutdown: no challenge outlives the service. */
  clear(): void {
    this.closed = true;
    for (const entry of this.pending.values()) removeNow(entry.path);
    this.pending.clear();
    if (this.spare !== undefined) removeNow(this.spare.path);
    this.spare = undefined;
  }

  get size(): number {
    return this.pending.size;
  }
}

function writeChallengeFile(dir: string): ChallengeFile {
  // One draw: 16 bytes name the file, 32 are the secret, as hex (printable, no newline, well
  // under the 4096-byte limit).
  const random = randomBytes(48).toString('hex');
  const path = join(dir, `${random.slice(0, 32)}.key`);
  const secret = Buffer.from(random.slice(32), 'utf8');
  const fd = openSync(path, 'wx', 0o640);
  try {
    fchmodSync(fd, 0o640);
    writeSync(fd, secret);
  } finally {
    closeSync(fd);
  }
  return { path, secret };
}

/** unlink rather than rm: rm's extra lstat and retry logic sat on every token request. */
function removeNow(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
