import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { openProtectedSettings, sealProtectedSettings } from './protected-settings.js';

const machine = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const clientPublicKey = machine.publicKey
  .export({ format: 'der', type: 'spki' })
  .toString('base64');

void describe('protected settings', () => {
  void it('seals to the machine key so that only its private key opens them', async () => {
    const secret = { commandToExecute: 'echo s3cr3t-value' };
    const sealed = await sealProtectedSettings(secret, clientPublicKey);
    assert.ok(!sealed.jwe.includes('s3cr3t'));
    assert.ok(
      !Buffer.from(sealed.jwe.split('.').join(''), 'base64url')
        .toString('latin1')
        .includes('s3cr3t'),
    );
    assert.equal(sealed.jwe.split('.').length, 5);
    assert.deepEqual(await openProtectedSettings(sealed, machine.privateKey), secret);
  });

  void it('names the key when another key tries to open them', async () => {
    const sealed = await sealProtectedSettings({ a: 1 }, clientPublicKey);
    const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await assert.rejects(openProtectedSettings(sealed, stranger.privateKey), (error: unknown) => {
      assert.equal((error as { code?: string }).code, 'ERR_PROTECTED_SETTINGS');
      assert.match((error as Error).message, new RegExp(sealed.keyId));
      return true;
    });
  });
});
