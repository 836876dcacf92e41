// The package repository over HTTP: publish, read back byte for byte, list newest first, and
// refuse — changing nothing — whatever is not a signed zip of the version it is published as.
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  PACKAGE_SIGNATURE_TYPE,
  signPackage,
  verifyPackage,
  type PackageIdentity,
} from '@tether/protocol/extension-package';
import { CompactSign } from 'jose';
import { GUEST_CONFIGURATION_SIGNATURE_TYPE } from '@tether/protocol';
import { CONTRIBUTOR_ROLE_ID, READER_ROLE_ID } from '../rbac/built-in-roles.js';
import { ArmTestApp, armTestBackends } from '../resources/testing/arm-test-app.js';
import { MAX_PACKAGE_BYTES } from './repository-upload.js';

const V = 'api-version=2024-07-10';
const BASE = '/providers/Tether.Extensions/publishers';
const urlOf = (p: PackageIdentity, suffix = ''): string =>
  `${BASE}/${p.publisher}/types/${p.type}/versions/${p.version}${suffix}?${V}`;

/** Bytes that pass for a zip: the local file header signature, then anything. */
const zipBytes = (size = 200): Buffer =>
  Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), randomBytes(size)]);

function errorOf(body: Record<string, unknown>): { code: string; message: string } {
  return body['error'] as { code: string; message: string };
}

for (const backend of armTestBackends()) {
  void describe(`extension package repository routes (${backend.name})`, () => {
    let t: ArmTestApp;
    let publisher: string;
    let reader: string;
    let key: KeyObject;
    let publicKey: KeyObject;

    const upload = async (identity: PackageIdentity, zip = zipBytes(), as = publisher) =>
      t.inject('PUT', urlOf(identity), {
        as,
        body: { package: zip.toString('base64'), signature: await signPackage(key, identity, zip) },
      });
    const count = async (): Promise<number> =>
      (await t.db.selectFrom('extension_packages').select('id').execute()).length;

    before(async () => {
      t = await ArmTestApp.start({ backend });
      publisher = await t.addPrincipal('ServicePrincipal', 'release-pipeline');
      reader = await t.addPrincipal();
      await t.assign(publisher, CONTRIBUTOR_ROLE_ID, '/');
      await t.assign(reader, READER_ROLE_ID, '/');
      ({ privateKey: key, publicKey } = generateKeyPairSync('ed25519'));
    });
    after(() => t.close());

    void it('publishes a package and gives back its metadata and the very same bytes', async () => {
      const identity = { publisher: 'Contoso.Tools', type: 'Widget', version: '1.0.0' };
      const zip = zipBytes(5000);
      const signature = await signPackage(key, identity, zip);
      const created = await t.inject('PUT', urlOf(identity), {
        as: publisher,
        body: { package: zip.toString('base64'), signature },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const expected = {
        ...identity,
        sha256: (await verifyPackage(signature, [publicKey], identity, zip)).sha256,
        size: zip.byteLength,
        signature,
        publishedAt: new Date(t.clock.now()).toISOString(),
        publishedBy: 'release-pipeline',
        // This app's callers are named by display name, which the directory does not resolve.
        publishedByDisplayName: null,
      };
      assert.deepEqual(created.body, expected);

      const shown = await t.inject('GET', urlOf(identity), { as: reader });
      assert.equal(shown.status, 200);
      assert.deepEqual(shown.body, expected);
      const lowerCase = urlOf({ publisher: 'contoso.tools', type: 'widget', version: '1.0.0' });
      assert.deepEqual((await t.inject('GET', lowerCase, { as: reader })).body, expected);

      // A real caller is named by its app id (or user principal name): reads add its name.
      const { app_id } = await t.db
        .selectFrom('principals')
        .select('app_id')
        .where('id', '=', publisher)
        .executeTakeFirstOrThrow();
      await t.db
        .updateTable('extension_packages')
        .set({ published_by: app_id ?? '' })
        .execute();
      const named = {
        ...expected,
        publishedBy: app_id,
        publishedByDisplayName: 'release-pipeline',
      };
      assert.deepEqual((await t.inject('GET', urlOf(identity), { as: reader })).body, named);
      const all = await t.inject(
        'GET',
        '/providers/Tether.Extensions/packages?api-version=2024-07-10',
        {
          as: reader,
        },
      );
      assert.deepEqual(all.body['value'], [named]);
      // A machine identity reads packages too, but is not shown the directory's names.
      const machine = await t.addPrincipal('ServicePrincipal', 'machine-identity');
      await t.db
        .updateTable('principals')
        .set({ machine_id: await t.addMachine(await t.addSubscription(), 'rg', 'web-01') })
        .where('id', '=', machine)
        .execute();
      const asMachine = await t.inject('GET', urlOf(identity), { as: machine });
      assert.equal(asMachine.status, 200, JSON.stringify(asMachine.body));
      assert.deepEqual(asMachine.body, { ...named, publishedByDisplayName: null });
      await t.db
        .updateTable('extension_packages')
        .set({ published_by: 'release-pipeline' })
        .execute();

      const download = await t.app.inject({
        method: 'GET',
        url: urlOf(identity, '/package'),
        headers: { authorization: `Bearer ${reader}` },
      });
      assert.equal(download.statusCode, 200);
      assert.equal(download.headers['content-type'], 'application/zip');
      assert.ok(download.rawPayload.equals(zip));
      await verifyPackage(signature, [publicKey], identity, download.rawPayload);

      const logged = await t.db
        .selectFrom('activity_log')
        .select(['caller', 'operation_name', 'status'])
        .where('http_method', '=', 'PUT')
        .execute();
      assert.deepEqual(logged, [
        {
          caller: 'release-pipeline',
          operation_name: 'Tether.Extensions/packages/write',
          status: 'Succeeded',
        },
      ]);
    });

    void it('lists versions newest first, by number, and every package', async () => {
      const name = { publisher: 'Contoso.Tools', type: 'Lister' };
      for (const version of ['1.2.0', '1.10.0', '1.9.1', '1.9']) {
        assert.equal((await upload({ ...name, version })).status, 201);
      }
      const listed = await t.inject('GET', `${BASE}/contoso.tools/types/LISTER/versions?${V}`, {
        as: reader,
      });
      assert.equal(listed.status, 200);
      const versions = (listed.body['value'] as { version: string }[]).map((p) => p.version);
      assert.deepEqual(versions, ['1.10.0', '1.9.1', '1.9', '1.2.0']);
      const empty = await t.inject('GET', `${BASE}/Nobody/types/Nothing/versions?${V}`, {
        as: reader,
      });
      assert.deepEqual(empty.body, { value: [] });

      const all = await t.inject('GET', `/providers/Tether.Extensions/packages?${V}`, {
        as: reader,
      });
      const everything = (all.body['value'] as PackageIdentity[]).map(
        (p) => `${p.type} ${p.version}`,
      );
      assert.deepEqual(everything.slice(0, 4), [
        'Lister 1.10.0',
        'Lister 1.9.1',
        'Lister 1.9',
        'Lister 1.2.0',
      ]);
      assert.ok(everything.includes('Widget 1.0.0'));
      assert.ok(!('content' in (all.body['value'] as object[])[0]!));
    });

    void it('refuses to replace a published version, in any spelling (409)', async () => {
      const identity = { publisher: 'Contoso.Tools', type: 'Immutable', version: '2.0' };
      assert.equal((await upload(identity)).status, 201);
      const before = await t.inject('GET', urlOf(identity), { as: reader });
      for (const again of [identity, { ...identity, publisher: 'contoso.tools' }]) {
        const res = await upload(again);
        assert.equal(res.status, 409);
        assert.equal(errorOf(res.body).code, 'Conflict');
        assert.match(errorOf(res.body).message, /immutable/);
      }
      assert.deepEqual((await t.inject('GET', urlOf(identity), { as: reader })).body, before.body);
    });

    void it('lets only callers granted packages/write publish, and only signed-in ones read', async () => {
      const identity = { publisher: 'Contoso.Tools', type: 'Guarded', version: '1.0' };
      const denied = await upload(identity, zipBytes(), reader);
      assert.equal(denied.status, 403);
      assert.equal(errorOf(denied.body).code, 'AuthorizationFailed');
      assert.match(errorOf(denied.body).message, /Tether\.Extensions\/packages\/write/);
      const anonymous = await t.inject('PUT', urlOf(identity), {
        body: { package: zipBytes().toString('base64'), signature: 'x' },
      });
      assert.equal(anonymous.status, 401);
      for (const url of [
        urlOf(identity),
        urlOf(identity, '/package'),
        `${BASE}/Contoso.Tools/types/Guarded/versions?${V}`,
        `/providers/Tether.Extensions/packages?${V}`,
      ]) {
        assert.equal((await t.inject('GET', url)).status, 401, url);
      }
      assert.equal((await t.inject('GET', urlOf(identity), { as: reader })).status, 404);
    });

    void it('refuses bad input with a specific error, and stores nothing', async () => {
      const identity = { publisher: 'Contoso.Bad', type: 'Input', version: '1.0.2' };
      const zip = zipBytes();
      const good = async (overrides: Record<string, unknown>) => ({
        package: zip.toString('base64'),
        signature: await signPackage(key, identity, zip),
        ...overrides,
      });
      const otherBytes = zipBytes();
      const oversized = zipBytes(MAX_PACKAGE_BYTES);
      const jwt = await new CompactSign(new TextEncoder().encode('{}'))
        .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT' })
        .sign(key);
      // Found by fuzzing: a header value whose toString is not a function made the refusal throw.
      const [, statement, signed] = (await signPackage(key, identity, zip)).split('.');
      const crafted = (header: unknown) =>
        `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${statement}.${signed}`;
      const cases: { name: string; url?: string; body?: unknown; code: string; message: RegExp }[] =
        [
          {
            name: 'a publisher with a space',
            url: urlOf({ ...identity, publisher: 'Contoso%20Bad' }),
            body: await good({}),
            code: 'InvalidResourceName',
            message: /whitespace/,
          },
          {
            name: 'a type starting with a dot',
            url: urlOf({ ...identity, type: '.Input' }),
            body: await good({}),
            code: 'InvalidResourceName',
            message: /must start with a letter or digit/,
          },
          {
            name: 'a version of one number',
            url: urlOf({ ...identity, version: '1' }),
            body: await good({}),
            code: 'InvalidResourceName',
            message: /version '1' is not valid/,
          },
          {
            name: 'a version with a letter',
            url: urlOf({ ...identity, version: 'v1.0' }),
            body: await good({}),
            code: 'InvalidResourceName',
            message: /version 'v1.0' is not valid/,
          },
          { name: 'no body', code: 'InvalidRequestContent', message: /missing/ },
          {
            name: 'an unknown field',
            body: await good({ owner: 'me' }),
            code: 'InvalidRequestContent',
            message: /'owner' is not a known field/,
          },
          {
            name: 'no package',
            body: await good({ package: undefined }),
            code: 'InvalidRequestContent',
            message: /'package' is required/,
          },
          {
            name: 'a package that is not base64',
            body: await good({ package: 'UEsDBA!!' }),
            code: 'InvalidRequestContent',
            message: /not valid base64/,
          },
          {
            name: 'a package that is not a zip',
            body: await good({ package: Buffer.from('hello world').toString('base64') }),
            code: 'InvalidRequestContent',
            message: /not a zip file/,
          },
          {
            name: 'a package over 32 MiB',
            body: await good({ package: oversized.toString('base64') }),
            code: 'InvalidRequestContent',
            message: /at most 33554432 bytes/,
          },
          {
            name: 'no signature',
            body: await good({ signature: undefined }),
            code: 'InvalidRequestContent',
            message: /'signature' is required/,
          },
          {
            name: 'a signature that is not a JWS',
            body: await good({ signature: 'not-a-jws' }),
            code: 'InvalidRequestContent',
            message: /not a package signature/,
          },
          {
            name: 'a JWS of another kind',
            body: await good({ signature: jwt }),
            code: 'InvalidRequestContent',
            message: /not a package signature/,
          },
          {
            name: 'a typ that is an object with a toString field',
            body: await good({ signature: crafted({ alg: 'EdDSA', typ: { toString: 1 } }) }),
            code: 'InvalidRequestContent',
            message: /its typ is "\{"toString":1\}"/,
          },
          {
            name: 'an alg that is an object with a toString field',
            body: await good({
              signature: crafted({ alg: { toString: 1 }, typ: PACKAGE_SIGNATURE_TYPE }),
            }),
            code: 'InvalidRequestContent',
            message: /uses algorithm "\{"toString":1\}"/,
          },
          {
            name: 'a signature for another version',
            body: await good({
              signature: await signPackage(key, { ...identity, version: '1.0.1' }, zip),
            }),
            code: 'InvalidRequestContent',
            message: /the signature is for version 1\.0\.1, not 1\.0\.2/i,
          },
          {
            name: 'a signature for another publisher spelling',
            body: await good({
              signature: await signPackage(key, { ...identity, publisher: 'contoso.bad' }, zip),
            }),
            code: 'InvalidRequestContent',
            message: /for publisher contoso\.bad, not Contoso\.Bad/,
          },
          {
            name: 'a signature made for other bytes',
            body: await good({ signature: await signPackage(key, identity, otherBytes) }),
            code: 'InvalidRequestContent',
            message: /does not match the SHA-256 in its signature/,
          },
        ];
      const before = await count();
      for (const c of cases) {
        const res = await t.inject('PUT', c.url ?? urlOf(identity), {
          as: publisher,
          ...(c.body === undefined ? {} : { body: c.body }),
        });
        assert.equal(res.status, 400, `${c.name}: ${JSON.stringify(res.body)}`);
        assert.equal(errorOf(res.body).code, c.code, c.name);
        assert.match(errorOf(res.body).message, c.message, c.name);
      }
      const tooLarge = await t.inject('PUT', urlOf(identity), {
        as: publisher,
        rawBody: {
          payload: JSON.stringify({ package: 'A'.repeat(46 * 1024 * 1024) }),
          contentType: 'application/json',
        },
      });
      assert.equal(tooLarge.status, 413);
      assert.equal(await count(), before);
      assert.equal((await t.inject('GET', urlOf(identity), { as: reader })).status, 404);
    });

    void it('takes a guest configuration package signed as one, and serves it back verifiable as one', async () => {
      const identity = { publisher: 'Contoso.Baselines', type: 'SshHardening', version: '1.2.0' };
      const zip = zipBytes(800);
      const signature = await signPackage(key, identity, zip, GUEST_CONFIGURATION_SIGNATURE_TYPE);
      const created = await t.inject('PUT', urlOf(identity), {
        as: publisher,
        body: { package: zip.toString('base64'), signature },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body['signature'], signature);
      const download = await t.app.inject({
        method: 'GET',
        url: urlOf(identity, '/package'),
        headers: { authorization: `Bearer ${reader}` },
      });
      assert.ok(download.rawPayload.equals(zip));
      await verifyPackage(
        signature,
        [publicKey],
        identity,
        download.rawPayload,
        GUEST_CONFIGURATION_SIGNATURE_TYPE,
      );
    });
  });
}
