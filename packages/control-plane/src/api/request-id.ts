// Ids a request carries for as long as it is answered, which for a held long poll is up to a
// minute, for every connected machine. `randomUUID()` builds its string from a table of hex
// pairs, a chain of about twenty joined pieces (~490 bytes of heap); copied through a buffer it
// is one flat string of 36 bytes (~60).
import { randomUUID } from 'node:crypto';

/** A random UUID in one flat string, for ids kept while a request is held. */
export function requestId(): string {
  return Buffer.from(randomUUID(), 'latin1').toString('latin1');
}
