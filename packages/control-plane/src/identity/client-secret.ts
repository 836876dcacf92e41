// Client secrets: random, shown once, stored only as a salted scrypt hash that carries its own
// parameters, so the cost can be raised later without breaking stored secrets.
import { randomBytes } from 'node:crypto';
import { hashWithScrypt, verifyScryptHash } from './scrypt-hash.js';

/** 256 bits of entropy: nothing to gain from guessing, so the slow hash only guards a stolen database. */
const SECRET_BYTES = 32;
/** scrypt's recommended interactive cost: about 16 MiB and tens of milliseconds per check. */
const COST = { N: 16384, r: 8, p: 1 } as const;

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
  return hashWithScrypt(secret, COST);
}

/** False for a wrong secret and for a stored hash it cannot read: fail closed. */
export async function verifyClientSecret(secret: string, stored: string): Promise<boolean> {
  return (await verifyScryptHash(secret, stored)) !== undefined;
}
