// Remembers tokens already verified, so that a request carrying one costs a map lookup rather
// than a signature check and two queries. Entries end at the token's expiry, at the
// credential's expiry, or after a short revalidation interval, whichever comes first, and are
// dropped at once when this process deletes their principal or credential.
import type { JWTPayload } from 'jose';
import type { Caller } from '../api/caller.js';

/** A token whose signature, issuer, audience and times were checked, and the key that signed it. */
export interface VerifiedToken {
  claims: JWTPayload;
  kid: string;
  /** Its `exp`: until then the signature check stands and only liveness needs asking again. */
  until: number;
}

interface Entry {
  caller: Caller;
  credentialId: string;
  validUntil: number;
  verified: VerifiedToken;
}

export const DEFAULT_VERIFICATION_CACHE_ENTRIES = 100_000;

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
    const entry = this.entries.get(token);
    if (entry === undefined || now >= entry.validUntil) return undefined;
    return entry.caller;
  }

  /**
   * A token checked before and not expired, whose entry is due for revalidation: a signature
   * does not change, so only its principal and credential need checking again.
   */
  verified(token: string, now: number): VerifiedToken | undefined {
    const entry = this.entries.get(token);
    if (entry === undefined) return undefined;
    if (now >= entry.verified.until) {
      this.entries.delete(token);
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
    if (!this.entries.has(token) && this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(token, { caller, credentialId, validUntil, verified });
  }

  forgetPrincipal(principalId: string): void {
    const key = principalId.toLowerCase();
    for (const [token, entry] of this.entries) {
      if (entry.caller.principalId.toLowerCase() === key) this.entries.delete(token);
    }
  }

  forgetCredential(credentialId: string): void {
    const key = credentialId.toLowerCase();
    for (const [token, entry] of this.entries) {
      if (entry.credentialId.toLowerCase() === key) this.entries.delete(token);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
