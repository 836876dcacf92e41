// Remembers, per scope string as callers spell it, its normalized form and ancestors: the
// API checks the same few thousand scopes over and over, and parsing one costs more than
// the rest of a permission check. Bounded, so a flood of distinct scopes only churns it.
import { normalizeScope, scopeAndAncestors } from './scope.js';

export interface ScopeChain {
  readonly scope: string;
  /** The scope and every scope above it, root first. */
  readonly ancestors: readonly string[];
  /** A memo slot for the engine: ids of the ancestors that hold assignments, and as of when. */
  heldIds: { readonly generation: number; readonly ids: readonly number[] } | undefined;
}

/**
 * Sized for a fleet: heartbeats cycle through every machine's scope, and with oldest-first
 * eviction a cache smaller than the fleet misses on nearly every check (a chain is ~1 KB).
 */
export const SCOPE_CACHE_LIMIT = 131_072;

export class ScopeChainCache {
  private readonly entries = new Map<string, ScopeChain>();

  /** Throws ERR_INVALID_SCOPE exactly as normalizeScope does; bad scopes are never cached. */
  get(raw: string): ScopeChain {
    const known = this.entries.get(raw);
    if (known !== undefined) return known;
    const scope = normalizeScope(raw);
    const chain = { scope, ancestors: Object.freeze(scopeAndAncestors(scope)), heldIds: undefined };
    if (this.entries.size >= SCOPE_CACHE_LIMIT) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(raw, chain);
    return chain;
  }

  get size(): number {
    return this.entries.size;
  }
}
