// Signing people in with a password over a real (SQLite) directory: right and wrong passwords,
// unknown names refused alike, the per-account limit with its Retry-After, and cost upgrades.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../clock.js';
import { TestControlPlane } from '../server/testing/test-control-plane.js';
import { CredentialStore } from './credential-store.js';
import { OAuthError } from './oauth-error.js';
import { PasswordAuthenticator } from './password-authenticator.js';
import { PasswordHasher } from './password-hasher.js';

const PASSWORD = 'correct horse battery staple';

void describe('PasswordAuthenticator', () => {
  let plane: TestControlPlane;
  let userId: string;
  before(async () => {
    plane = await TestControlPlane.start();
    const user = await plane.controlPlane.directory.createUser(
      'Ada Lovelace',
      'ada@contoso.example',
      PASSWORD,
    );
    userId = user.id;
  });
  after(() => plane.close());

  const refusalOf = async (work: Promise<unknown>): Promise<OAuthError> => {
    try {
      await work;
    } catch (error) {
      assert.ok(error instanceof OAuthError, String(error));
      return error;
    }
    assert.fail('not refused');
  };

  void it('signs in with the right password, whatever the case of the name', async () => {
    const signIn = plane.controlPlane.identity.passwords;
    const user = await signIn.signIn('ADA@Contoso.example', PASSWORD, '10.0.0.1');
    assert.equal(user.principal.id, userId);
    assert.equal(user.credential.principal_id, userId);
  });

  void it('refuses a wrong password and an unknown name with the same answer', async () => {
    const signIn = plane.controlPlane.identity.passwords;
    const wrong = await refusalOf(signIn.signIn('ada@contoso.example', 'nope', '10.0.0.2'));
    const unknown = await refusalOf(signIn.signIn('bob@contoso.example', PASSWORD, '10.0.0.2'));
    assert.equal(wrong.error, 'invalid_grant');
    assert.equal(unknown.message, wrong.message);
  });

  void it('stops an account after 5 failures from one address with 429 and Retry-After, even for the right password', async () => {
    const clock = new ManualClock();
    const store = new CredentialStore(plane.db, clock);
    const signIn = new PasswordAuthenticator(
      store,
      new PasswordHasher({ N: 1024, r: 8, p: 1 }),
      clock,
    );
    for (let i = 0; i < 5; i++) {
      const error = await refusalOf(signIn.signIn('ada@contoso.example', `guess ${i}`, '10.9.9.9'));
      assert.equal(error.status, 400);
    }
    clock.advance(60_000);
    const limited = await refusalOf(signIn.signIn('ada@contoso.example', PASSWORD, '10.9.9.9'));
    assert.equal(limited.status, 429);
    assert.equal(limited.retryAfterSeconds, 240);
    assert.match(limited.description, /for account 'ada@contoso.example'/);
    // Another address is not locked out by this one's guesses; the window's end frees the first.
    await signIn.signIn('ada@contoso.example', PASSWORD, '10.1.1.1');
    clock.advance(240_000);
    await signIn.signIn('ada@contoso.example', PASSWORD, '10.9.9.9');
  });

  void it('upgrades a hash made at a lower cost when the password is used, keeping the credential', async () => {
    const clock = new ManualClock();
    const store = new CredentialStore(plane.db, clock);
    const stronger = new PasswordHasher({ N: 2048, r: 8, p: 1 });
    const signIn = new PasswordAuthenticator(store, stronger, clock);
    const before = await signIn.signIn('ada@contoso.example', PASSWORD, '10.0.0.3');
    const row = await plane.db
      .selectFrom('credentials')
      .selectAll()
      .where('id', '=', before.credential.id)
      .executeTakeFirstOrThrow();
    assert.match(row.secret_hash ?? '', /^scrypt\$N=2048,/);
    const again = await signIn.signIn('ada@contoso.example', PASSWORD, '10.0.0.3');
    assert.equal(again.credential.id, before.credential.id);
  });
});
