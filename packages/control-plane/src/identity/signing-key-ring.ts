// The keys access tokens are signed with. One key signs; keys retired by a rotation stay
// published and accepted until no token they signed can still be live, then are deleted.
//
// RS256 (RSA-2048): verifying is what every authenticated request costs, and an RSA
// signature with e=65537 verifies several times faster than ECDSA P-256; signing (once per
// token) is the slower side, which is the right trade. Entra signs with RS256 as well.
// Private keys are stored wrapped with the key-encryption key (signing-key-wrapping.ts).
import { generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import { calculateJwkThumbprint, importJWK, type CryptoKey, type JWK } from 'jose';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import type { Database } from '../store/schema.js';
import { IdentityError } from './identity-error.js';
import { KeyEncryptionKeys } from './key-encryption-keys.js';
import { openPrivateJwk, sealPrivateJwk } from './signing-key-wrapping.js';

export const ACCESS_TOKEN_ALGORITHM = 'RS256';

export interface SigningKeyPolicy {
  /** Longest lifetime of a token the keys sign. */
  tokenLifetimeMs: number;
  /** Clock skew allowed when verifying; a retired key is kept this much longer. */
  clockSkewMs: number;
}

interface KeyEntry {
  kid: string;
  publicJwk: JWK;
  verifyKey: CryptoKey;
  createdAt: number;
  retiredAt: number | undefined;
}

export class SigningKeyRing {
  private keys: KeyEntry[] = [];
  private signer: { kid: string; key: CryptoKey } | undefined;

  private constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    readonly policy: SigningKeyPolicy,
    private readonly keks: KeyEncryptionKeys,
  ) {}

  /**
   * Loads the keys, creating the first signing key if there is none. `keks` must hold the
   * key-encryption key the signing key is wrapped with (signing-key-wrapping.ts checks first).
   */
  static async open(
    db: Kysely<Database>,
    clock: Clock,
    policy: SigningKeyPolicy,
    keks: KeyEncryptionKeys = KeyEncryptionKeys.none(),
  ): Promise<SigningKeyRing> {
    const ring = new SigningKeyRing(db, clock, policy, keks);
    await ring.reload();
    if (ring.signer === undefined) await ring.rotate();
    return ring;
  }

  signingKey(): { kid: string; key: CryptoKey } {
    if (this.signer === undefined) {
      throw new IdentityError('ERR_SIGNING_KEY', 'no signing key is loaded; rotate to create one');
    }
    return this.signer;
  }

  /** The key to check a token's signature with, if `kid` is one this server still accepts. */
  verificationKey(kid: string): CryptoKey | undefined {
    const now = this.clock.now();
    return this.keys.find((k) => k.kid === kid && this.isAccepted(k, now))?.verifyKey;
  }

  /** The public keys of every accepted key, current first, as the JWKS endpoint serves them. */
  jwks(): { keys: JWK[] } {
    const now = this.clock.now();
    return { keys: this.keys.filter((k) => this.isAccepted(k, now)).map((k) => k.publicJwk) };
  }

  /** Age of the signing key, for periodic rotation. */
  signingKeyAgeMs(): number {
    const current = this.keys.find((k) => k.kid === this.signer?.kid);
    return current === undefined ? Number.POSITIVE_INFINITY : this.clock.now() - current.createdAt;
  }

  /**
   * Makes a new key the signing key and retires the others. Tokens they signed keep
   * verifying until they expire; the retired keys are deleted by `pruneRetired` after that.
   */
  async rotate(): Promise<string> {
    const { privateJwk, publicJwk, kid } = await newRsaKey();
    const now = new Date(this.clock.now()).toISOString();
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('signing_keys')
        .set({ retired_at: now })
        .where('retired_at', 'is', null)
        .execute();
      await trx
        .insertInto('signing_keys')
        .values({
          kid,
          alg: ACCESS_TOKEN_ALGORITHM,
          ...(await sealPrivateJwk(trx, this.keks, privateJwk)),
          public_jwk: JSON.stringify(publicJwk),
          created_at: now,
          retired_at: null,
        })
        .execute();
    });
    await this.reload();
    return kid;
  }

  /** Deletes retired keys no live token can name any more; returns how many. */
  async pruneRetired(): Promise<number> {
    const cutoff = this.clock.now() - this.policy.tokenLifetimeMs - this.policy.clockSkewMs;
    const result = await this.db
      .deleteFrom('signing_keys')
      .where('retired_at', 'is not', null)
      .where('retired_at', '<', new Date(cutoff).toISOString())
      .executeTakeFirst();
    await this.reload();
    return Number(result.numDeletedRows);
  }

  /** Reads the keys again: another process sharing the database may have rotated. */
  async reload(): Promise<void> {
    const rows = await this.db.selectFrom('signing_keys').selectAll().execute();
    // The signing key first, then the most recently retired: rotations can share a timestamp.
    const rank = (r: (typeof rows)[number]) => `${r.retired_at ?? '~'} ${r.created_at}`;
    rows.sort((a, b) => (rank(a) < rank(b) ? 1 : rank(a) > rank(b) ? -1 : 0));
    const keys: KeyEntry[] = [];
    let signer: { kid: string; key: CryptoKey } | undefined;
    for (const row of rows) {
      if (row.alg !== ACCESS_TOKEN_ALGORITHM) continue;
      const publicJwk = JSON.parse(row.public_jwk) as JWK;
      const verifyKey = (await importJWK(publicJwk, ACCESS_TOKEN_ALGORITHM)) as CryptoKey;
      const retiredAt = row.retired_at === null ? undefined : Date.parse(row.retired_at);
      keys.push({
        kid: row.kid,
        publicJwk,
        verifyKey,
        createdAt: Date.parse(row.created_at),
        retiredAt,
      });
      if (signer === undefined && retiredAt === undefined) {
        const privateJwk = await openPrivateJwk(row, this.keks);
        signer = {
          kid: row.kid,
          key: (await importJWK(privateJwk, ACCESS_TOKEN_ALGORITHM)) as CryptoKey,
        };
      }
    }
    this.keys = keys;
    this.signer = signer;
  }

  private isAccepted(key: KeyEntry, now: number): boolean {
    if (key.retiredAt === undefined) return true;
    return now < key.retiredAt + this.policy.tokenLifetimeMs + this.policy.clockSkewMs;
  }
}

async function newRsaKey(): Promise<{ privateJwk: JWK; publicJwk: JWK; kid: string }> {
  const { privateKey, publicKey } = await promisify(generateKeyPair)('rsa', {
    modulusLength: 2048,
  });
  const exported = publicKey.export({ format: 'jwk' });
  const base: JWK = { kty: exported.kty ?? 'RSA', n: exported.n ?? '', e: exported.e ?? '' };
  const kid = await calculateJwkThumbprint(base, 'sha256');
  const publicJwk: JWK = { ...base, kid, use: 'sig', alg: ACCESS_TOKEN_ALGORITHM };
  const privateJwk = { ...privateKey.export({ format: 'jwk' }), kid } as JWK;
  return { privateJwk, publicJwk, kid };
}
