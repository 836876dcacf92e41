// Users with passwords through Graph: created with a password profile, refused (and not
// created) when the password breaks a rule, and reset by an administrator.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestControlPlane } from '../server/testing/test-control-plane.js';

void describe('user password routes', () => {
  let plane: TestControlPlane;
  let owner: string;
  before(async () => {
    plane = await TestControlPlane.start();
    owner = await plane.ownerToken();
  });
  after(() => plane.close());

  const call = (method: string, url: string, body?: unknown) =>
    plane.request(method, url, { token: owner, ...(body === undefined ? {} : { body }) });
  const errorOf = (answer: { body: Record<string, unknown> }) =>
    answer.body['error'] as { code: string; message: string; target?: string };
  const signIn = (name: string, password: string) =>
    plane.controlPlane.identity.passwords.signIn(name, password, '10.0.0.1');

  void it('creates a user with a password that signs in, and never shows it', async () => {
    const created = await call('POST', '/v1.0/users', {
      displayName: 'Grace Hopper',
      userPrincipalName: 'grace@contoso.example',
      mailNickname: 'grace',
      accountEnabled: true,
      passwordProfile: { password: 'nanoseconds are 30 cm', forceChangePasswordNextSignIn: false },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.ok(!JSON.stringify(created.body).includes('nanoseconds'));
    const user = await signIn('grace@contoso.example', 'nanoseconds are 30 cm');
    assert.equal(user.principal.id, created.body['id']);
  });

  void it('refuses a weak password naming the rule, and creates nothing', async () => {
    const refused = await call('POST', '/v1.0/users', {
      displayName: 'Alan Turing',
      userPrincipalName: 'alan@contoso.example',
      passwordProfile: { password: 'alan-turing-1912' },
    });
    assert.equal(refused.status, 400);
    assert.equal(errorOf(refused).target, 'passwordProfile.password');
    assert.match(errorOf(refused).message, /contains the user name or display name/);
    assert.ok(!errorOf(refused).message.includes('1912'));
    const listed = await call(
      'GET',
      "/v1.0/users?$filter=userPrincipalName eq 'alan@contoso.example'",
    );
    assert.deepEqual(listed.body['value'], []);
  });

  void it('refuses a forced change at next sign-in, which is not offered', async () => {
    const unforced = await call('POST', '/v1.0/users', {
      displayName: 'Edsger Dijkstra',
      userPrincipalName: 'edsger@contoso.example',
      passwordProfile: { password: 'goto considered harmful' },
      accountEnabled: true,
    });
    assert.equal(unforced.status, 201);
    const forced = await call('POST', '/v1.0/users', {
      displayName: 'Barbara Liskov',
      userPrincipalName: 'barbara@contoso.example',
      passwordProfile: { password: 'substitution principle', forceChangePasswordNextSignIn: true },
    });
    assert.equal(forced.status, 400);
    assert.equal(errorOf(forced).target, 'passwordProfile.forceChangePasswordNextSignIn');
  });

  void it('lets an administrator set a new password; the old one stops working', async () => {
    const created = await call('POST', '/v1.0/users', {
      displayName: 'Ken Thompson',
      userPrincipalName: 'ken@contoso.example',
      passwordProfile: { password: 'reflections on trust' },
    });
    const id = String(created.body['id']);
    const reset = await call('PATCH', `/v1.0/users/${id}`, {
      passwordProfile: { password: 'a brand new passphrase' },
    });
    assert.equal(reset.status, 204, JSON.stringify(reset.body));
    await signIn('ken@contoso.example', 'a brand new passphrase');
    await assert.rejects(signIn('ken@contoso.example', 'reflections on trust'));
    const weak = await call('PATCH', `/v1.0/users/${id}`, {
      passwordProfile: { password: 'short' },
    });
    assert.equal(weak.status, 400);
    assert.match(errorOf(weak).message, /5 characters; a password needs at least 12/);
    const empty = await call('PATCH', `/v1.0/users/${id}`, {});
    assert.equal(errorOf(empty).target, 'passwordProfile');
  });

  void it('answers /v1.0/me only for a signed-in person', async () => {
    const me = await call('GET', '/v1.0/me');
    assert.equal(me.status, 400);
    assert.match(errorOf(me).message, /is a ServicePrincipal/);
  });
});
