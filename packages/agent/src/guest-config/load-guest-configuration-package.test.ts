// A guest configuration package is evaluated only when its bytes are the assigned ones, signed
// by a trusted publisher key as a guest configuration, and no rule reaches the agent's folders.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { GUEST_CONFIGURATION_SIGNATURE_TYPE, isTetherError } from '@tether/protocol';
import { signPackage } from '@tether/protocol/extension-package';
import { buildZip } from '../extensions/host/testing/test-fixtures.js';
import { makeFakeServer, type FakeServer } from '../test-support/fake-server.js';
import { loadGuestConfigurationPackage } from './load-guest-configuration-package.js';

const PUBLISHER = 'Contoso.Security';
const publisherKey = generateKeyPairSync('ed25519');
const strangerKey = generateKeyPairSync('ed25519');

const rule = (path: string): object => ({
  id: '5.2.1',
  title: 'sshd_config mode',
  kind: 'file',
  path,
  maxMode: '0600',
});

function configuration(rules: object[] = [rule('/etc/ssh/sshd_config')]): string {
  return JSON.stringify({ name: 'SshHardening', version: '1.2.0', rules });
}

async function signed(
  text: string,
  options: { key?: KeyObject; kind?: string; name?: string } = {},
): Promise<{ zip: Buffer; signature: string; contentHash: string }> {
  const zip = await buildZip([{ name: 'configuration.json', content: text }]);
  const signature = await signPackage(
    options.key ?? publisherKey.privateKey,
    { publisher: PUBLISHER, type: options.name ?? 'SshHardening', version: '1.2.0' },
    zip,
    options.kind ?? GUEST_CONFIGURATION_SIGNATURE_TYPE,
  );
  return { zip, signature, contentHash: createHash('sha256').update(zip).digest('hex') };
}

const trusted = (publisher: string): KeyObject[] =>
  publisher === PUBLISHER ? [publisherKey.publicKey] : [];

function refused(code: string, message: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(isTetherError(error), String(error));
    assert.equal(error.code, code);
    assert.match(error.message, message);
    return true;
  };
}

void describe('loadGuestConfigurationPackage', () => {
  let server: FakeServer;
  beforeEach(() => {
    server = makeFakeServer();
  });
  afterEach(() => server.remove());

  const load = (
    pkg: { zip: Buffer; signature: string; contentHash: string },
    contentHash = pkg.contentHash,
  ) =>
    loadGuestConfigurationPackage(
      pkg,
      { name: 'SshHardening', version: '1.2.0', contentHash },
      trusted,
      server.root,
    );

  void test('loads a package signed by a trusted publisher, with an upper-case hash', async () => {
    const pkg = await signed(configuration());
    const loaded = await load(pkg, pkg.contentHash.toUpperCase());
    assert.equal(loaded.publisher, PUBLISHER);
    assert.equal(loaded.configuration.rules[0]?.id, '5.2.1');
  });

  void test('refuses bytes whose hash is not the assignment’s', async () => {
    const pkg = await signed(configuration());
    const other = await signed(configuration([rule('/etc/passwd')]));
    await assert.rejects(
      load({ ...pkg, zip: other.zip }, pkg.contentHash),
      refused('ERR_PACKAGE_SIGNATURE', /has SHA-256 [0-9a-f]{64}, but its assignment expects/),
    );
  });

  void test('refuses a signature by a key not trusted for the publisher', async () => {
    await assert.rejects(
      load(await signed(configuration(), { key: strangerKey.privateKey })),
      refused('ERR_PACKAGE_SIGNATURE', /not made by a key trusted for publisher Contoso\.Security/),
    );
  });

  void test('refuses an extension package signature over the same bytes', async () => {
    await assert.rejects(
      load(await signed(configuration(), { kind: 'tether-extension-package+jws' })),
      refused('ERR_PACKAGE_SIGNATURE', /of kind "tether-extension-package\+jws"/),
    );
  });

  void test('refuses a package signed for another configuration name', async () => {
    await assert.rejects(
      load(await signed(configuration(), { name: 'Other' })),
      refused('ERR_PACKAGE_SIGNATURE', /is for type "Other", not "SshHardening"/),
    );
  });

  void test("refuses a rule naming the agent's folder", async () => {
    await assert.rejects(
      load(await signed(configuration([rule('/var/opt/azcmagent/localconfig.json')]))),
      refused('ERR_GUEST_CONFIGURATION_INVALID', /under the agent's folder \/var\/opt\/azcmagent/),
    );
  });

  void test("refuses a rule reaching the agent's folder through a link", async () => {
    mkdirSync(join(server.root, 'etc'), { recursive: true });
    symlinkSync('/var/opt/azcmagent', join(server.root, 'etc/agent'));
    await assert.rejects(
      load(await signed(configuration([rule('/etc/agent/localconfig.json')]))),
      refused(
        'ERR_GUEST_CONFIGURATION_INVALID',
        /rule "5.2.1" whose path \/etc\/agent\/localconfig.json leads, through a link, into the agent's folder \/var\/opt\/azcmagent/,
      ),
    );
  });

  void test('names the rule and field of invalid content', async () => {
    await assert.rejects(
      load(await signed(configuration([{ ...rule('/etc/x'), maxMode: 'rw-------' }]))),
      refused('ERR_GUEST_CONFIGURATION_INVALID', /rule "5.2.1" field "maxMode" is "rw-------"/),
    );
  });
});
