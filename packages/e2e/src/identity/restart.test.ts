// Restarting `tether server` keeps every principal, credential and signing key: tokens issued
// before the restart still verify, and both kinds of credential still get new ones.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runNodeClient, startControlPlane, type ControlPlane } from '../harness/index.js';
import {
  addCertificate,
  addPassword,
  createServicePrincipal,
  credentialInput,
  type CredentialAnswer,
} from './identity-fixtures.js';

void describe('tether server restart', () => {
  let plane: ControlPlane;
  before(async () => {
    plane = await startControlPlane();
  });
  after(() => plane.stop());

  void it('keeps principals, credentials and live tokens', async () => {
    const run = (input: string) =>
      runNodeClient<CredentialAnswer>('identity-credential', [input], plane.clientEnv());
    const withSecret = await createServicePrincipal(plane, 'kept-secret');
    const { secret } = await addPassword(plane, withSecret.id);
    const withCertificate = await createServicePrincipal(plane, 'kept-certificate');
    const { pemPath } = await addCertificate(plane, withCertificate.id);
    const ownerToken = await plane.admin.tokenFor(plane.appId, plane.password);
    const before = await run(credentialInput(plane, withSecret.appId, { clientSecret: secret }));
    assert.equal(before.ok, true, JSON.stringify(before.error));

    await plane.restart();

    const listed = await plane.admin.call('GET', '/v1.0/servicePrincipals', { token: ownerToken });
    assert.equal(listed.status, 200, 'a token issued before the restart still verifies');
    const names = (listed.body['value'] as { displayName: string }[])
      .map((p) => p.displayName)
      .sort();
    assert.deepEqual(names, ['kept-certificate', 'kept-secret', 'tether-bootstrap']);
    const oldToken = before.tokens[0]?.token ?? '';
    assert.equal(
      (await plane.admin.call('GET', '/v1.0/users', { token: oldToken })).status,
      403,
      'authenticated, still without a role',
    );

    const secretAfter = await run(
      credentialInput(plane, withSecret.appId, { clientSecret: secret }),
    );
    assert.equal(secretAfter.ok, true, JSON.stringify(secretAfter.error));
    const certificateAfter = await run(
      credentialInput(plane, withCertificate.appId, { certificatePath: pemPath }),
    );
    assert.equal(certificateAfter.ok, true, JSON.stringify(certificateAfter.error));
    const owner = await run(credentialInput(plane, plane.appId, { clientSecret: plane.password }));
    assert.equal(owner.call?.status, 200, 'the Owner assignment survived');
  });
});
