// Ids a request carries for as long as it is answered, which for a held long poll is up to a
// minute, for every connected machine. `randomUUID()` builds its string from a table of hex
// pairs, a chain of about twenty joined pieces (~490 bytes of heap); lower-casing it, which
// leaves a UUID as it is, makes one flat string of 36 bytes (~60), for about half a
// microsecond (a copy through a Buffer takes four times as long).
import { randomUUID } from 'node:crypto';

/** A random UUID in one flat string, for ids kept while a request is held. */
export function requestId(): string {
  return randomUUID().toLowerCase();
}
