// The verification cache keeps a large fleet's tokens at once, ends entries at validUntil and
// evicts the oldest only at its bound.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Caller } from '../api/caller.js';
import { DEFAULT_VERIFICATION_CACHE_ENTRIES, VerificationCache } from './verification-cache.js';

const caller = (principalId: string) => ({ principalId }) as unknown as Caller;
const verified = (until = 5000) => ({ claims: { oid: 'p' }, kid: 'k1', until });

void describe('VerificationCache', () => {
  void it('holds 20,000 machine tokens cycled in turn, as heartbeats use them', () => {
    assert.ok(DEFAULT_VERIFICATION_CACHE_ENTRIES >= 20_000);
    const cache = new VerificationCache();
    for (let i = 0; i < 20_000; i++) cache.put(`t${i}`, caller(`p${i}`), `c${i}`, 1000, verified());
    for (let i = 0; i < 20_000; i++) assert.ok(cache.get(`t${i}`, 0) !== undefined, `t${i}`);
  });

  void it('evicts the oldest at its bound and forgets entries at validUntil', () => {
    const cache = new VerificationCache(2);
    cache.put('a', caller('pa'), 'ca', 1000, verified());
    cache.put('b', caller('pb'), 'cb', 1000, verified());
    cache.put('c', caller('pc'), 'cc', 1000, verified());
    assert.equal(cache.get('a', 0), undefined);
    assert.equal(cache.get('c', 999)?.principalId, 'pc');
    assert.equal(cache.get('c', 1000), undefined);
  });

  void it('keeps a checked signature past revalidation until the token expires', () => {
    const cache = new VerificationCache();
    cache.put('t', caller('p'), 'c', 1000, verified(5000));
    assert.equal(cache.get('t', 1000), undefined, 'due for revalidation');
    assert.equal(
      cache.verified('t', 1000)?.kid,
      'k1',
      'but its signature need not be checked again',
    );
    assert.equal(cache.verified('t', 5000), undefined, 'not once the token has expired');
    assert.equal(cache.size, 0);
    cache.put('u', caller('p'), 'c', 1000, verified(5000));
    cache.forgetPrincipal('p');
    assert.equal(cache.verified('u', 1000), undefined, 'nor after its principal was deleted');
  });

  void it('finds a token only by all of it, not by the signature it ends with', () => {
    const cache = new VerificationCache();
    const signature = 'S'.repeat(342);
    cache.put(`h.p1.${signature}`, caller('p1'), 'c', 1000, verified());
    assert.equal(cache.get(`h.p1.${signature}`, 0)?.principalId, 'p1');
    assert.equal(cache.get(`h.p2.${signature}`, 0), undefined, 'another payload, same signature');
    assert.equal(cache.verified(`h.p2.${signature}`, 0), undefined);
  });
});
