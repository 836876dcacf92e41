// Remembers tokens already verified, so that a request carrying one costs a map lookup rather
// than a signature check and two queries. Entries end at the token's expiry, at the
// credential's expiry, or after a short revalidation interval, whichever comes first, and are
// dropped at once when this process deletes their principal or credential.
import type { JWTPayload } from 'jose';
import type { Caller } from '../api/caller.js';

/** A token whose signature, issuer, audience and times were checked, and the key that signed it. */
export interface VerifiedToken {
  claims: Readonly<JWTPayload>;
  kid: string;
  /** Its `exp`: until then the signature check stands and only liveness needs asking again. */
  until: number;
}

interface Entry {
  token: string;
  caller: Caller;
  credentialId: string;
  validUntil: number;
  verified: VerifiedToken;
}

export const DEFAULT_VERIFICATION_CACHE_ENTRIES = 100_000;

/**
 * Entries are found by the last characters of the token, its signature's (240 random-looking
 * bits, a twentieth of the token to hash), and then compared whole: a token that shares them is
 * not the token that was verified. Two tokens sharing them would only evict each other.
 */
function keyOf(token: string): string {
  return token.slice(-40);
}

export class VerificationCache {
  private readonly entries = new Map<string, Entry>();

  /**
   * `maxEntries` bounds memory (about 1 KB an entry); the oldest entry makes room for a new one.
   * Heartbeats cycle through every machine's token, so a bound below the fleet size would evict
   * each token just before its next use and turn every heartbeat into a signature check.
   */
  constructor(private readonly maxEntries: number = DEFAULT_VERIFICATION_CACHE_ENTRIES) {}

  /** The caller while the entry is valid; after that, ask the database again. */
  get(token: string, now: number): Caller | undefined {
    const entry = this.entries.get(keyOf(token));
    if (entry === undefined || entry.token !== token || now >= entry.validUntil) return undefined;
    return entry.caller;
  }

  /**
   * A token checked before and not expired, whose entry is due for revalidation: a signature
   * does not change, so only its principal and credential need checking again.
   */
  verified(token: string, now: number): VerifiedToken | undefined {
    const entry = this.entries.get(keyOf(token));
    if (entry === undefined || entry.token !== token) return undefined;
    if (now >= entry.verified.until) {
      this.entries.delete(keyOf(token));
      return undefined;
    }
    return entry.verified;
  }

  put(
    token: string,
    caller: Caller,
    credentialId: string,
    validUntil: number,
    verified: VerifiedToken,
  ): void {
    const key = keyOf(token);
    if (!this.entries.has(key) && this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { token, caller, credentialId, validUntil, verified });
  }

  forgetPrincipal(principalId: string): void {
    const key = principalId.toLowerCase();
    for (const [signature, entry] of this.entries) {
      if (entry.caller.principalId.toLowerCase() === key) this.entries.delete(signature);
    }
  }

  forgetCredential(credentialId: string): void {
    const key = credentialId.toLowerCase();
    for (const [signature, entry] of this.entries) {
      if (entry.credentialId.toLowerCase() === key) this.entries.delete(signature);
    }
  }

  /** Forgets every token: deletions may have been missed. */
  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
