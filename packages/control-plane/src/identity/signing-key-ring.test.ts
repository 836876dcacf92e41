// Signing-key rotation: tokens signed before a rotation keep working until they expire, the
// retired key stays in the JWKS until then, and a key no longer published is refused.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import { TestControlPlane } from '../server/testing/test-control-plane.js';
import { AuthenticationError } from './authentication-error.js';
import { ACCESS_TOKEN_CLOCK_SKEW_SECONDS } from './token-authenticator.js';

const HOUR_MS = 3_600_000;

void describe('signing key rotation', () => {
  let plane: TestControlPlane;
  before(async () => {
    plane = await TestControlPlane.start();
  });
  after(() => plane.close());

  const identity = () => plane.controlPlane.identity;
  const jwksKids = async () => {
    const answer = await plane.request('GET', `/${plane.tenantId}/discovery/v2.0/keys`);
    return (answer.body['keys'] as { kid: string }[]).map((k) => k.kid);
  };

  void it('keeps a token signed before rotation valid until it expires, then drops the old key', async () => {
    const before = await plane.ownerToken();
    const oldKid = String(decodeProtectedHeader(before).kid);
    const newKid = await identity().keys.rotate();
    assert.notEqual(newKid, oldKid);

    const after = await plane.ownerToken();
    assert.equal(decodeProtectedHeader(after).kid, newKid, 'new tokens use the new key');
    assert.deepEqual(await jwksKids(), [newKid, oldKid]);
    await identity().authenticator.authenticate(`Bearer ${before}`);

    // Not prunable while a token it signed can be live.
    plane.clock.advance(HOUR_MS - 60_000);
    assert.equal(await identity().keys.pruneRetired(), 0);
    await identity().authenticator.authenticate(`Bearer ${before}`);

    plane.clock.advance(60_000 + ACCESS_TOKEN_CLOCK_SKEW_SECONDS * 1000 + 1);
    assert.deepEqual(await jwksKids(), [newKid], 'the retired key is no longer published');
    assert.equal(await identity().keys.pruneRetired(), 1);
    await assert.rejects(
      identity().authenticator.authenticate(`Bearer ${before}`),
      AuthenticationError,
    );
    await identity().authenticator.authenticate(`Bearer ${await plane.ownerToken()}`);
  });

  void it('rotates on schedule only when the key is old enough', async () => {
    const kid = identity().keys.signingKey().kid;
    assert.equal(await identity().rotateIfDue(24 * HOUR_MS), false);
    assert.equal(identity().keys.signingKey().kid, kid);
    plane.clock.advance(24 * HOUR_MS);
    assert.equal(await identity().rotateIfDue(24 * HOUR_MS), true);
    assert.notEqual(identity().keys.signingKey().kid, kid);
  });

  void it('keeps keys and credentials across a restart: a token issued before still verifies', async () => {
    const token = await plane.ownerToken();
    const kid = identity().keys.signingKey().kid;
    await plane.restart();
    assert.equal(identity().keys.signingKey().kid, kid);
    const caller = await identity().authenticator.authenticate(`Bearer ${token}`);
    assert.equal(caller.principalId, plane.installation.principalId);
    await plane.ownerToken();
  });
});
