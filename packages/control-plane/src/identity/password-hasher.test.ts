// People's password hashes: OWASP's scrypt cost by default, the cost kept in the hash, and a
// hash made at a lower cost reported for upgrade.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OWASP_PASSWORD_COST, PasswordHasher } from './password-hasher.js';

void describe('PasswordHasher', () => {
  void it("uses OWASP's scrypt cost by default and stores it in the hash", async () => {
    const hasher = new PasswordHasher();
    assert.deepEqual({ ...hasher.cost }, { N: 131072, r: 8, p: 1 });
    const stored = await hasher.hash('correct horse battery staple');
    assert.match(stored, /^scrypt\$N=131072,r=8,p=1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    assert.ok(!stored.includes('horse'));
    assert.deepEqual(await hasher.verify('correct horse battery staple', stored), {
      matches: true,
      needsRehash: false,
    });
  });

  void it('refuses a wrong password and an unreadable stored hash', async () => {
    const hasher = new PasswordHasher({ N: 1024, r: 8, p: 1 });
    const stored = await hasher.hash('correct horse battery staple');
    assert.equal((await hasher.verify('correct horse battery stapler', stored)).matches, false);
    assert.equal((await hasher.verify('x', 'plain:x')).matches, false);
    assert.equal((await hasher.verify('x', stored.replace('N=1024', 'N=1048577'))).matches, false);
  });

  void it('reports a hash made at a lower cost for upgrade, which still verifies', async () => {
    const old = await new PasswordHasher({ N: 1024, r: 8, p: 1 }).hash('pass phrase here');
    const today = new PasswordHasher({ N: 2048, r: 8, p: 1 });
    assert.deepEqual(await today.verify('pass phrase here', old), {
      matches: true,
      needsRehash: true,
    });
    assert.notEqual(OWASP_PASSWORD_COST.N, 0);
  });
});
