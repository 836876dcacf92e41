// Opaque one-time values handed to clients (session cookies, codes, refresh tokens, device
// codes): 256 random bits, stored only as their SHA-256, so a copy of the database opens nothing.
import { createHash, randomBytes } from 'node:crypto';

export function newOpaqueToken(): string {
  return randomBytes(32).toString('base64url');
}

/** What the database keeps: a fast hash is enough for 256 random bits. */
export function opaqueTokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}
