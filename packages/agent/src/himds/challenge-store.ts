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

/**
 * Any local user may ask for challenges, and each is a file: past `pressure` outstanding ones
 * each new caller is identified and may hold at most `perCaller`; nobody gets more than `total`
 * at once. Below `pressure` nobody is identified, so ordinary token flows pay nothing.
 */
export const CHALLENGE_LIMITS = { pressure: 32, perCaller: 32, total: 1024 } as const;

/** Why a challenge was not handed out; HIMDS answers 429 with the message. */
export class ChallengeLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChallengeLimitError';
  }
}

interface ChallengeFile {
  readonly path: string;
  readonly secret: Buffer;
}

interface Pending extends ChallengeFile {
  readonly expiresAt: number;
  /** The caller's uid, when it was identified (only under pressure). */
  readonly uid: number | undefined;
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

  /**
   * Hands out a challenge file and returns its absolute path (the `realm`). `callerUid` tells
   * who is asking; it is called only under pressure. Throws ChallengeLimitError past the limits.
   */
  create(callerUid: () => number | undefined = () => undefined): string {
    this.sweep();
    const uid = this.admit(callerUid);
    const file = this.spare ?? writeChallengeFile(this.tokensDir);
    this.spare = undefined;
    // Its 60 seconds start now, when a caller learns its name.
    this.pending.set(file.secret.toString('utf8'), {
      ...file,
      expiresAt: this.clock.now() + CHALLENGE_LIFETIME_MS,
      uid,
    });
    return file.path;
  }

  private admit(callerUid: () => number | undefined): number | undefined {
    const { pressure, perCaller, total } = CHALLENGE_LIMITS;
    const outstanding = this.pending.size;
    if (outstanding >= total) {
      throw new ChallengeLimitError(
        `${outstanding} challenges are outstanding, the most HIMDS hands out at once; retry when they expire (within ${CHALLENGE_LIFETIME_MS / 1000} s).`,
      );
    }
    if (outstanding < pressure) return undefined;
    const uid = callerUid();
    // Under pressure a caller that cannot be identified is refused: it cannot be held to a share.
    if (uid === undefined) {
      throw new ChallengeLimitError(
        'HIMDS is handing out many challenges and cannot tell which local account is asking; retry shortly.',
      );
    }
    let held = 0;
    for (const entry of this.pending.values()) if (entry.uid === uid) held += 1;
    if (held >= perCaller) {
      throw new ChallengeLimitError(
        `uid ${uid} already holds ${held} unanswered challenges, the most one account may hold; answer or let them expire (within ${CHALLENGE_LIFETIME_MS / 1000} s).`,
      );
    }
    return uid;
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
