// The verification cache keeps a large fleet's tokens at once, ends entries at validUntil and
// evicts the oldest only at its bound.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Caller } from '../api/caller.js';
import { DEFAULT_VERIFICATION_CACHE_ENTRIES, VerificationCache } from './verification-cache.js';

const caller = (principalId: string) => ({ principalId }) as unknown as Caller;

void describe('VerificationCache', () => {
  void it('holds 20,000 machine tokens cycled in turn, as heartbeats use them', () => {
    assert.ok(DEFAULT_VERIFICATION_CACHE_ENTRIES >= 20_000);
    const cache = new VerificationCache();
    for (let i = 0; i < 20_000; i++) cache.put(`t${i}`, caller(`p${i}`), `c${i}`, 1000);
    for (let i = 0; i < 20_000; i++) assert.ok(cache.get(`t${i}`, 0) !== undefined, `t${i}`);
  });

  void it('evicts the oldest at its bound and forgets entries at validUntil', () => {
    const cache = new VerificationCache(2);
    cache.put('a', caller('pa'), 'ca', 1000);
    cache.put('b', caller('pb'), 'cb', 1000);
    cache.put('c', caller('pc'), 'cc', 1000);
    assert.equal(cache.get('a', 0), undefined);
    assert.equal(cache.get('c', 999)?.principalId, 'pc');
    assert.equal(cache.get('c', 1000), undefined);
  });
});
