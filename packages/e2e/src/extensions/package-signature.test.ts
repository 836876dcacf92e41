// Signed packages end to end: the agent refuses a package signed by a key it does not trust for
// the publisher, one whose signature or bytes were changed in the control plane's storage after
// publishing, and one from a publisher it trusts no key for — before unpacking anything. Root's
// trust and untrust of the key are local changes, and reach the control plane's activity log.
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { dataDirPaths } from '@tether/control-plane/server/data-dir';
import { publisherKeyId } from '@tether/protocol/extension-package';
import { handlerManifestOf } from '@tether/extensions/handler-packages';
import { makePublisherKey, publishPackage, waitFor, type PackageRef } from '../harness/index.js';
import {
  propertiesOf,
  startExtensionFixture,
  statusMessageOf,
  type ExtensionFixture,
} from './extension-fixture.js';

const ROOT_ONLY = process.geteuid?.() === 0 ? false : 'azcmagent connect needs root';
const PUBLISHER = 'Contoso.Tools';
const TYPE = 'Hello';

/** A handler whose every command succeeds. */
function writeHandler(dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'HandlerManifest.json'),
    JSON.stringify(handlerManifestOf((verb) => `sh ./hello.sh ${verb}`)),
  );
  writeFileSync(join(dir, 'hello.sh'), '#!/bin/sh\necho "hello $1"\nexit 0\n');
  chmodSync(join(dir, 'hello.sh'), 0o755);
}

void describe('package signatures end to end', { skip: ROOT_ONLY, timeout: 300_000 }, () => {
  let fx: ExtensionFixture;
  const ref = (version: string): PackageRef => ({
    publisher: PUBLISHER,
    type: TYPE,
    version,
    dir: join(fx.scratch, 'hello'),
  });
  const handlerDir = (version: string): string =>
    join(fx.agent.root, `var/lib/waagent/${PUBLISHER}.${TYPE}-${version}`);
  const deploy = (name: string, version: string) =>
    fx.deploy(name, { publisher: PUBLISHER, type: TYPE, typeHandlerVersion: version });
  const refused = async (name: string, version: string, why: RegExp): Promise<void> => {
    const deployed = await deploy(name, version);
    assert.equal(deployed.ok, false, `${name} ${version} should have been refused`);
    const got = await fx.get(name);
    assert.equal(propertiesOf(got.body)['provisioningState'], 'Failed');
    assert.match(statusMessageOf(got.body), why);
    assert.ok(!existsSync(handlerDir(version)), 'nothing was unpacked');
    const removed = await fx.remove(name);
    assert.ok(removed.ok, JSON.stringify(removed.error));
  };
  /** Changes a stored package behind the control plane's back, as a compromised store would. */
  const tamper = async (version: string, change: (row: Row) => Partial<Row>): Promise<void> => {
    await fx.plane.restart(() => {
      const db = new Database(dataDirPaths(fx.plane.dataDir).database);
      try {
        const id = `${PUBLISHER}/${TYPE}/${version}`.toLowerCase();
        const row = db
          .prepare('SELECT content, signature FROM extension_packages WHERE id = ?')
          .get(id) as Row;
        const next = { ...row, ...change(row) };
        db.prepare('UPDATE extension_packages SET content = ?, signature = ? WHERE id = ?').run(
          next.content,
          next.signature,
          id,
        );
      } finally {
        db.close();
      }
    });
  };

  before(async () => {
    fx = await startExtensionFixture({ machine: 'app-01' });
    writeHandler(join(fx.scratch, 'hello'));
    const trusted = await fx.azcmagent(
      'extension',
      'trust',
      '--publisher',
      PUBLISHER,
      '--key',
      fx.key.publicKeyFile,
    );
    assert.equal(trusted.status, 0, trusted.stderr);
  });
  after(async () => {
    await fx?.stop();
  });

  void it('installs a package signed by the trusted key', async () => {
    await publishPackage(fx.plane, fx.key, ref('1.0.0'));
    const deployed = await deploy('hello', '1.0.0');
    assert.ok(deployed.ok, JSON.stringify(deployed.error));
    assert.ok(existsSync(join(handlerDir('1.0.0'), 'hello.sh')));
    assert.ok((await fx.remove('hello')).ok);
  });

  void it('refuses a package signed by a key not trusted for its publisher', async () => {
    const stranger = await makePublisherKey(fx.plane, join(fx.scratch, 'stranger'));
    await publishPackage(fx.plane, stranger, ref('1.1.0'));
    await refused('untrusted', '1.1.0', /not made by a key trusted for publisher Contoso\.Tools/);
  });

  void it('refuses a package altered after signing', async () => {
    await publishPackage(fx.plane, fx.key, ref('1.2.0'));
    await tamper('1.2.0', (row) => {
      const zip = Buffer.from(row.content, 'base64');
      zip.writeUInt8(zip.readUInt8(zip.length - 30) ^ 0xff, zip.length - 30);
      return { content: zip.toString('base64') };
    });
    await refused('altered', '1.2.0', /altered after signing/);
  });

  void it('refuses a package whose signature was changed or removed', async () => {
    await publishPackage(fx.plane, fx.key, ref('1.3.0'));
    await tamper('1.3.0', (row) => {
      const [header, payload, signature = ''] = row.signature.split('.');
      const flipped = `${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
      return { signature: `${header}.${payload}.${flipped}` };
    });
    await refused('bad-signature', '1.3.0', /not made by a key trusted/);

    await publishPackage(fx.plane, fx.key, ref('1.4.0'));
    await tamper('1.4.0', () => ({ signature: '' }));
    await refused('unsigned', '1.4.0', /no signature|not a compact JWS/);
  });

  void it('refuses a publisher the server trusts no key for', async () => {
    const other: PackageRef = { ...ref('1.0.0'), publisher: 'Fabrikam.Tools' };
    await publishPackage(fx.plane, fx.key, other);
    const deployed = await fx.deploy('fabrikam', {
      publisher: 'Fabrikam.Tools',
      type: TYPE,
      typeHandlerVersion: '1.0.0',
    });
    assert.equal(deployed.ok, false);
    const got = await fx.get('fabrikam');
    assert.match(statusMessageOf(got.body), /No key is trusted for publisher Fabrikam\.Tools/);
    assert.ok(!existsSync(join(fx.agent.root, `var/lib/waagent/Fabrikam.Tools.${TYPE}-1.0.0`)));
  });

  void it('refuses the publisher again once root untrusts its key; both changes are audited', async () => {
    const keyId = publisherKeyId(createPublicKey(readFileSync(fx.key.publicKeyFile)));
    const untrusted = await fx.azcmagent(
      'extension',
      'untrust',
      '--publisher',
      PUBLISHER,
      '--key-id',
      keyId,
    );
    assert.equal(untrusted.status, 0, untrusted.stderr);
    await publishPackage(fx.plane, fx.key, ref('1.5.0'));
    await refused('untrusted-again', '1.5.0', /No key is trusted for publisher Contoso\.Tools/);

    const changes = await waitFor('the trust changes in the activity log', async () => {
      const answer = await fx.plane.admin.call(
        'GET',
        `/subscriptions/${fx.plane.subscriptionId}/providers/Microsoft.Insights/eventtypes/management/values?api-version=2015-04-01&$filter=${encodeURIComponent(
          `eventTimestamp ge '2000-01-01T00:00:00Z' and resourceUri eq '${fx.agent.machinePath}'`,
        )}`,
      );
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const found = (
        answer.body['value'] as {
          operationName: { value: string };
          properties: Record<string, unknown>;
        }[]
      )
        .filter(
          (e) =>
            e.operationName.value === 'Microsoft.HybridCompute/machines/localConfiguration/write' &&
            e.properties['property'] === 'extensions.trustedkeys' &&
            `${String(e.properties['oldValue'])},${String(e.properties['newValue'])}`.includes(
              `${PUBLISHER}/`,
            ),
        )
        .map((e) => [e.properties['oldValue'], e.properties['newValue']]);
      return found.length >= 2 ? found : undefined;
    });
    assert.deepEqual(
      changes.sort(),
      [
        ['', `${PUBLISHER}/${keyId}`],
        [`${PUBLISHER}/${keyId}`, ''],
      ].sort(),
    );
  });
});

interface Row {
  content: string;
  signature: string;
}
