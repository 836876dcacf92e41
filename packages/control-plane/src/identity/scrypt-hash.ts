// Salted scrypt hashes that carry their own cost (`scrypt$N=…,r=…,p=…$salt$hash`), so the
// cost can be raised later and hashes made at the old cost still verify.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export interface ScryptCost {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

const SALT_BYTES = 16;
const HASH_BYTES = 32;
/** Refuses stored parameters that would make one check a denial of service. */
const MAX_N = 1 << 20;

const FORMAT = /^scrypt\$N=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/;

export async function hashWithScrypt(secret: string, cost: ScryptCost): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(secret, salt, HASH_BYTES, cost);
  return `scrypt$N=${cost.N},r=${cost.r},p=${cost.p}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

/**
 * The cost the stored hash was made with when `secret` matches it; undefined for a wrong
 * secret and for a stored hash it cannot read (fail closed).
 */
export async function verifyScryptHash(
  secret: string,
  stored: string,
): Promise<ScryptCost | undefined> {
  const match = FORMAT.exec(stored);
  if (match === null) return undefined;
  const [, n, r, p, salt, hash] = match;
  const cost = { N: Number(n), r: Number(r), p: Number(p) };
  if (cost.N > MAX_N || cost.r > 32 || cost.p > 16) return undefined;
  const expected = Buffer.from(hash ?? '', 'base64url');
  if (expected.length < 16) return undefined;
  try {
    const actual = await derive(
      secret,
      Buffer.from(salt ?? '', 'base64url'),
      expected.length,
      cost,
    );
    return timingSafeEqual(actual, expected) ? cost : undefined;
  } catch {
    return undefined;
  }
}

function derive(secret: string, salt: Buffer, length: number, cost: ScryptCost): Promise<Buffer> {
  const options: ScryptOptions = { ...cost, maxmem: 256 * cost.N * cost.r + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, length, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}
