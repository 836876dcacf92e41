// The HIMDS file challenge (S16): a fresh secret in var/opt/azcmagent/tokens/<random>.key,
// readable by root and the himds group only, accepted once within 60 s, then removed.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, fchmodSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../clock.js';

export const CHALLENGE_LIFETIME_MS = 60_000;

interface Pending {
  readonly path: string;
  readonly secret: Buffer;
  readonly expiresAt: number;
}

export class ChallengeStore {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly tokensDir: string,
    private readonly clock: Clock,
  ) {}

  /** Creates the file and returns its absolute path (the `realm`). */
  create(): string {
    this.sweep();
    const path = join(this.tokensDir, `${randomBytes(16).toString('hex')}.key`);
    // 32 random bytes as hex: printable, no newline, well under the 4096-byte limit.
    const secret = Buffer.from(randomBytes(32).toString('hex'), 'utf8');
    const fd = openSync(path, 'wx', 0o640);
    try {
      fchmodSync(fd, 0o640);
      writeSync(fd, secret);
    } finally {
      closeSync(fd);
    }
    this.pending.set(secret.toString('utf8'), {
      path,
      secret,
      expiresAt: this.clock.now() + CHALLENGE_LIFETIME_MS,
    });
    return path;
  }

  /** True once for a live secret; the file is removed whatever the outcome for that secret. */
  redeem(presented: string): boolean {
    this.sweep();
    const candidate = Buffer.from(presented, 'utf8');
    for (const [key, entry] of this.pending) {
      if (entry.secret.length === candidate.length && timingSafeEqual(entry.secret, candidate)) {
        this.pending.delete(key);
        removeNow(entry.path);
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
    for (const entry of this.pending.values()) removeNow(entry.path);
    this.pending.clear();
  }

  get size(): number {
    return this.pending.size;
  }
}

/** unlink rather than rm: rm's extra lstat and retry logic sat on every token request. */
function removeNow(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
