// The scope cache returns what normalizeScope would, never keeps a bad scope, and stays
// within its bound however many distinct scopes it sees.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SCOPE_CACHE_LIMIT, ScopeChainCache } from './scope-chain-cache.js';

void describe('ScopeChainCache', () => {
  void it('normalizes and lists ancestors, the same on a hit as on a miss', () => {
    const cache = new ScopeChainCache();
    const raw = '//subscriptions/S1/resourceGroups/RG/';
    const expected = {
      scope: '/subscriptions/s1/resourcegroups/rg',
      ancestors: ['/', '/subscriptions/s1', '/subscriptions/s1/resourcegroups/rg'],
    };
    const { scope, ancestors } = cache.get(raw);
    assert.deepEqual({ scope, ancestors }, expected);
    assert.equal(cache.get(raw).scope, expected.scope);
    assert.deepEqual(
      cache.get(raw.toUpperCase().replace('S1', 's1')).ancestors,
      expected.ancestors,
    );
  });

  void it('throws for a bad scope every time and does not keep it', () => {
    const cache = new ScopeChainCache();
    assert.throws(() => cache.get('/subscriptions/../x'), { code: 'ERR_INVALID_SCOPE' });
    assert.throws(() => cache.get('/subscriptions/../x'), { code: 'ERR_INVALID_SCOPE' });
    assert.equal(cache.size, 0);
  });

  void it('holds at most SCOPE_CACHE_LIMIT scopes and still answers for evicted ones', () => {
    const cache = new ScopeChainCache();
    for (let i = 0; i < SCOPE_CACHE_LIMIT + 100; i++) cache.get(`/subscriptions/s${i}`);
    assert.equal(cache.size, SCOPE_CACHE_LIMIT);
    assert.equal(cache.get('/subscriptions/S0').scope, '/subscriptions/s0');
  });
});
