import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { randomToken, s256Challenge } from './pkce.js';

void describe('PKCE', () => {
  void it('derives the S256 challenge: base64url of the verifier SHA-256, without padding', async () => {
    for (const verifier of ['dBjftJeZ4CVP-mJ92K9A8igT6Cfk2yy4i4fbg5zXr8Q', randomToken()]) {
      const expected = createHash('sha256').update(verifier).digest('base64url');
      assert.equal(await s256Challenge(verifier), expected);
    }
  });

  void it('makes 43-character base64url verifiers, never the same twice', () => {
    const a = randomToken();
    const b = randomToken();
    assert.match(a, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(a, b);
  });
});
