// Client secrets: long and random, stored only as salted scrypt hashes that fail closed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  generateClientSecret,
  hashClientSecret,
  secretHint,
  verifyClientSecret,
} from './client-secret.js';

void describe('client secrets', () => {
  void it('are at least 32 random bytes, base64url, and never repeat', () => {
    const secrets = new Set(Array.from({ length: 50 }, generateClientSecret));
    assert.equal(secrets.size, 50);
    for (const secret of secrets) {
      assert.match(secret, /^[A-Za-z0-9_-]+$/);
      assert.ok(Buffer.from(secret, 'base64url').length >= 32);
    }
  });

  void it('never start with a dash or underscore, so they pass as command-line values', () => {
    for (let i = 0; i < 2000; i++) assert.match(generateClientSecret(), /^[A-Za-z0-9]/);
  });

  void it('are stored as a scrypt hash that does not contain the secret', async () => {
    const secret = generateClientSecret();
    const stored = await hashClientSecret(secret);
    assert.match(stored, /^scrypt\$N=\d+,r=\d+,p=\d+\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/);
    assert.ok(!stored.includes(secret));
    assert.ok(!stored.includes(Buffer.from(secret, 'base64url').toString('hex')));
  });

  void it('are salted: the same secret hashes differently each time', async () => {
    const secret = generateClientSecret();
    assert.notEqual(await hashClientSecret(secret), await hashClientSecret(secret));
  });

  void it('verify only with the exact secret', async () => {
    const secret = generateClientSecret();
    const stored = await hashClientSecret(secret);
    assert.equal(await verifyClientSecret(secret, stored), true);
    assert.equal(await verifyClientSecret(`${secret}x`, stored), false);
    assert.equal(await verifyClientSecret(secret.slice(0, -1), stored), false);
    assert.equal(await verifyClientSecret('', stored), false);
  });

  void it('fail closed on a stored hash that is damaged or unreadable', async () => {
    const secret = generateClientSecret();
    const stored = await hashClientSecret(secret);
    const flipped = stored.slice(0, -2) + (stored.endsWith('AA') ? 'BB' : 'AA');
    for (const bad of [
      flipped,
      '',
      secret,
      'scrypt$N=3,r=8,p=1$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA',
      'scrypt$N=16384,r=8,p=1$c2FsdA$c2hvcnQ',
      stored.replace('N=16384', 'N=1073741824'),
    ]) {
      assert.equal(await verifyClientSecret(secret, bad), false, bad);
    }
  });

  void it("hint at the secret with its first three characters, as Graph's hint does", () => {
    assert.equal(secretHint('abcdef'), 'abc');
  });
});
