// People's passwords: scrypt at OWASP's cost (N=2^17, r=8, p=1: 128 MiB per check), the cost
// kept in each hash so it can be raised and older hashes upgraded at the next sign-in.
import { hashWithScrypt, verifyScryptHash, type ScryptCost } from './scrypt-hash.js';

export const OWASP_PASSWORD_COST: ScryptCost = Object.freeze({ N: 2 ** 17, r: 8, p: 1 });

export interface PasswordCheck {
  matches: boolean;
  /** The hash was made at a lower cost than today's: store a new one while the password is at hand. */
  needsRehash: boolean;
}

export class PasswordHasher {
  constructor(readonly cost: ScryptCost = OWASP_PASSWORD_COST) {}

  hash(password: string): Promise<string> {
    return hashWithScrypt(password, this.cost);
  }

  async verify(password: string, stored: string): Promise<PasswordCheck> {
    const used = await verifyScryptHash(password, stored);
    if (used === undefined) return { matches: false, needsRehash: false };
    const weaker = used.N < this.cost.N || used.r < this.cost.r || used.p < this.cost.p;
    return { matches: true, needsRehash: weaker };
  }
}
