// Client secrets: random, shown once, stored only as a salted scrypt hash that carries its own
// parameters, so the cost can be raised later without breaking stored secrets.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** 256 bits of entropy: nothing to gain from guessing, so the slow hash only guards a stolen database. */
const SECRET_BYTES = 32;
const SALT_BYTES = 16;
const HASH_BYTES = 32;
/** scrypt's recommended interactive cost: about 16 MiB and tens of milliseconds per check. */
const COST = { N: 16384, r: 8, p: 1 } as const;
/** Refuses stored parameters that would make one check a denial of service. */
const MAX_N = 1 << 20;

const FORMAT = /^scrypt\$N=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/;

export function generateClientSecret(): string {
  // Never one that starts with '-' or '_': as a command-line value (`azcmagent connect -p …`) a
  // leading dash reads as an option. Drawing again keeps every other character uniform.
  for (;;) {
    const secret = randomBytes(SECRET_BYTES).toString('base64url');
    if (/^[A-Za-z0-9]/.test(secret)) return secret;
  }
}

/** Graph's `hint`: the first characters of a secret, shown and stored to tell secrets apart. */
export function secretHint(secret: string): string {
  return secret.slice(0, 3);
}

export async function hashClientSecret(secret: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(secret, salt, HASH_BYTES, COST);
  return `scrypt$N=${COST.N},r=${COST.r},p=${COST.p}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

/** False for a wrong secret and for a stored hash it cannot read: fail closed. */
export async function verifyClientSecret(secret: string, stored: string): Promise<boolean> {
  const match = FORMAT.exec(stored);
  if (match === null) return false;
  const [, n, r, p, salt, hash] = match;
  const cost = { N: Number(n), r: Number(r), p: Number(p) };
  if (cost.N > MAX_N || cost.r > 32 || cost.p > 16) return false;
  const expected = Buffer.from(hash ?? '', 'base64url');
  if (expected.length < 16) return false;
  try {
    const actual = await derive(
      secret,
      Buffer.from(salt ?? '', 'base64url'),
      expected.length,
      cost,
    );
    return timingSafeEqual(actual, expected);
  } catch {
    return false;
  }
}

function derive(
  secret: string,
  salt: Buffer,
  length: number,
  cost: { N: number; r: number; p: number },
): Promise<Buffer> {
  const options: ScryptOptions = { ...cost, maxmem: 256 * cost.N * cost.r + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, length, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}
