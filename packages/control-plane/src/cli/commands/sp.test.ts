// `tether sp` against a fake control plane: the requests create-for-rbac makes and in what
// order, its az-shaped output, roll-back on failure, and credential reset/add.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { CliTestKit, TEST_SUBSCRIPTION, TEST_TENANT } from '../client/testing/cli-test-kit.js';
import { selfSignedLocalhost } from '../client/testing/test-certificate.js';
import { register } from './sp.js';

const SUB = `/subscriptions/${TEST_SUBSCRIPTION}`;
const CONTRIBUTOR = 'b24988ac-6180-42a0-ab88-20f7382dd24c';
const NEW_SP = {
  id: 'aaaaaaaa-0000-4000-8000-000000000001',
  appId: 'bbbbbbbb-0000-4000-8000-000000000002',
  displayName: 'onboarding',
};

void describe('tether sp', () => {
  let kit: CliTestKit;
  beforeEach(async () => {
    kit = await CliTestKit.create(register);
    await kit.signIn();
    kit.transport
      .on('GET', '/v1.0/servicePrincipals', { body: { value: [] } })
      .on('GET', /\/roleDefinitions$/, (r) => ({
        body: {
          value:
            r.query.get('$filter') === "roleName eq 'Contributor'"
              ? [
                  {
                    id: `${SUB}/providers/Microsoft.Authorization/roleDefinitions/${CONTRIBUTOR}`,
                    name: CONTRIBUTOR,
                    properties: { roleName: 'Contributor' },
                  },
                ]
              : [],
        },
      }))
      .on('POST', '/v1.0/servicePrincipals', { status: 201, body: NEW_SP })
      .on('POST', `/v1.0/servicePrincipals/${NEW_SP.id}/addPassword`, {
        body: { keyId: 'cccccccc-0000-4000-8000-000000000003', secretText: 'generated-secret' },
      })
      .on('PUT', /\/roleAssignments\/[0-9a-f-]{36}$/, (r) => ({
        status: 201,
        body: { id: r.path, name: 'x', properties: r.body },
      }))
      .on('DELETE', `/v1.0/servicePrincipals/${NEW_SP.id}`, { status: 204 });
  });
  afterEach(() => kit.dispose());

  void it('create-for-rbac creates, adds a secret, assigns the role and prints what az prints', async () => {
    const run = await kit.run(
      'sp',
      'create-for-rbac',
      '--name',
      'onboarding',
      '--role',
      'Contributor',
      '--scopes',
      `${SUB}/resourceGroups/rg`,
    );
    assert.equal(run.exitCode, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), {
      appId: NEW_SP.appId,
      displayName: 'onboarding',
      password: 'generated-secret',
      tenant: TEST_TENANT,
    });
    assert.match(run.stderr, /WARNING: The output includes credentials that you must protect/);
    const calls = kit.transport.calls();
    assert.deepEqual(calls.slice(0, 4), [
      'GET /v1.0/servicePrincipals',
      `GET ${SUB}/resourceGroups/rg/providers/Microsoft.Authorization/roleDefinitions`,
      'POST /v1.0/servicePrincipals',
      `POST /v1.0/servicePrincipals/${NEW_SP.id}/addPassword`,
    ]);
    assert.equal(calls.length, 5);
    const put = kit.transport.requests.find((r) => r.method === 'PUT');
    assert.match(
      put?.path ?? '',
      new RegExp(`^${SUB}/resourceGroups/rg/providers/Microsoft.Authorization/roleAssignments/`),
    );
    assert.equal(put?.query.get('api-version'), '2022-04-01');
    assert.deepEqual(put?.body, {
      properties: {
        roleDefinitionId: `${SUB}/providers/Microsoft.Authorization/roleDefinitions/${CONTRIBUTOR}`,
        principalId: NEW_SP.id,
        principalType: 'ServicePrincipal',
      },
    });
    const add = kit.transport.requests.find((r) => r.path.endsWith('/addPassword'));
    const end = (add?.body as { passwordCredential: { endDateTime: string } }).passwordCredential
      .endDateTime;
    assert.equal(end, '2027-06-01T12:00:00.000Z', 'one year from now by default');
    assert.equal(kit.transport.requests[0]?.headers['authorization'], 'Bearer cached-token');
  });

  void it('refuses --role without --scopes before sending anything', async () => {
    const run = await kit.run('sp', 'create-for-rbac', '--role', 'Contributor');
    assert.equal(run.exitCode, 2);
    assert.match(run.stderr, /pass both --role and --scopes/);
    assert.equal(kit.transport.requests.length, 0);
  });

  void it('refuses a bad scope before sending anything', async () => {
    const run = await kit.run(
      'sp',
      'create-for-rbac',
      '--role',
      'Reader',
      '--scopes',
      'resourceGroups/rg',
    );
    assert.equal(run.exitCode, 2);
    assert.match(
      run.stderr,
      /--scopes: the scope 'resourceGroups\/rg' is not a scope: it must start with '\/'/,
    );
    assert.equal(kit.transport.requests.length, 0);
  });

  void it('creates nothing when the role does not exist', async () => {
    const run = await kit.run(
      'sp',
      'create-for-rbac',
      '-n',
      'x',
      '--role',
      'Contributr',
      '--scopes',
      SUB,
    );
    assert.equal(run.exitCode, 3);
    assert.match(run.stderr, /no role named 'Contributr' can be assigned at scope/);
    assert.ok(!kit.transport.calls().some((c) => c.startsWith('POST')));
  });

  void it('removes the new service principal when the role assignment is refused', async () => {
    kit.transport.on('PUT', /\/roleAssignments\//, {
      status: 403,
      body: {
        error: {
          code: 'AuthorizationFailed',
          message:
            'The client does not have authorization to perform action Microsoft.Authorization/roleAssignments/write.',
        },
      },
    });
    const run = await kit.run(
      'sp',
      'create-for-rbac',
      '-n',
      'x',
      '--role',
      'Contributor',
      '--scopes',
      SUB,
    );
    assert.equal(run.exitCode, 1);
    assert.match(
      run.stderr,
      /^ERROR: \(AuthorizationFailed\) The client does not have authorization/,
    );
    assert.doesNotMatch(run.stdout + run.stderr, /generated-secret/);
    assert.ok(kit.transport.calls().includes(`DELETE /v1.0/servicePrincipals/${NEW_SP.id}`));
  });

  void it('refuses a display name that is already taken', async () => {
    kit.transport.on('GET', '/v1.0/servicePrincipals', { body: { value: [NEW_SP] } });
    const run = await kit.run('sp', 'create-for-rbac', '-n', 'onboarding');
    assert.equal(run.exitCode, 2);
    assert.match(
      run.stderr,
      new RegExp(
        `already exists \\(appId ${NEW_SP.appId}\\).*sp credential reset --id ${NEW_SP.appId}`,
      ),
    );
    assert.ok(!kit.transport.calls().includes('POST /v1.0/servicePrincipals'));
  });

  void it('credential reset adds a secret, then removes the old ones unless --append', async () => {
    kit.transport.on('GET', '/v1.0/servicePrincipals', (r) => ({
      body: {
        value:
          r.query.get('$filter') === `appId eq '${NEW_SP.appId}'`
            ? [{ ...NEW_SP, passwordCredentials: [{ keyId: 'old-1' }, { keyId: 'old-2' }] }]
            : [],
      },
    }));
    kit.transport.on('POST', /\/removePassword$/, { status: 204 });
    const run = await kit.run('sp', 'credential', 'reset', '--id', NEW_SP.appId, '--years', '2');
    assert.equal(run.exitCode, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), {
      appId: NEW_SP.appId,
      password: 'generated-secret',
      tenant: TEST_TENANT,
    });
    const removed = kit.transport.requests
      .filter((r) => r.path.endsWith('/removePassword'))
      .map((r) => r.body);
    assert.deepEqual(removed, [{ keyId: 'old-1' }, { keyId: 'old-2' }]);
    const add = kit.transport.requests.find((r) => r.path.endsWith('/addPassword'));
    assert.equal(
      (add?.body as { passwordCredential: { endDateTime: string } }).passwordCredential.endDateTime,
      '2028-06-01T12:00:00.000Z',
    );

    kit.transport.requests.length = 0;
    assert.equal(
      (await kit.run('sp', 'credential', 'reset', '--id', NEW_SP.appId, '--append')).exitCode,
      0,
    );
    assert.ok(!kit.transport.calls().some((c) => c.endsWith('/removePassword')));
  });

  void it('credential add --cert uploads the certificate as a key credential', async () => {
    kit.transport.on('GET', `/v1.0/servicePrincipals/${NEW_SP.id}`, { body: NEW_SP });
    kit.transport.on('POST', /\/addKey$/, (r) => ({
      body: {
        keyId: 'dddddddd-0000-4000-8000-000000000004',
        displayName: (r.body as { keyCredential: { displayName: string } }).keyCredential
          .displayName,
      },
    }));
    const file = join(kit.configDir, '..', 'sp.pem');
    const pem = (await selfSignedLocalhost()).cert;
    await writeFile(file, pem);
    const run = await kit.run(
      'sp',
      'credential',
      'add',
      '--id',
      NEW_SP.id,
      '--cert',
      file,
      '--display-name',
      'host-key',
      '-o',
      'table',
    );
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(
      run.stdout,
      /dddddddd-0000-4000-8000-000000000004\s+AsymmetricX509Cert\s+host-key/,
    );
    const body = kit.transport.requests.find((r) => r.path.endsWith('/addKey'))?.body as {
      keyCredential: { key: string };
    };
    assert.equal(body.keyCredential.key.trim(), pem.trim());
  });

  void it('refuses --years with --end-date, and an end date in the past', async () => {
    const both = await kit.run(
      'sp',
      'credential',
      'reset',
      '--id',
      NEW_SP.appId,
      '--years',
      '1',
      '--end-date',
      '2030-01-01',
    );
    assert.equal(both.exitCode, 2);
    assert.match(both.stderr, /either --years or --end-date/);
    const past = await kit.run(
      'sp',
      'credential',
      'reset',
      '--id',
      NEW_SP.appId,
      '--end-date',
      '2020-01-01',
    );
    assert.equal(past.exitCode, 2);
    assert.match(past.stderr, /--end-date 2020-01-01T00:00:00.000Z is not in the future/);
    assert.equal(kit.transport.requests.length, 0);
  });

  void it('lists service principals as a table', async () => {
    kit.transport.on('GET', '/v1.0/servicePrincipals', { body: { value: [NEW_SP] } });
    const run = await kit.run('sp', 'list', '-o', 'table');
    assert.equal(
      run.stdout,
      `DisplayName  AppId${' '.repeat(33)}Id\n${'-'.repeat(11)}  ${'-'.repeat(36)}  ${'-'.repeat(36)}\nonboarding   ${NEW_SP.appId}  ${NEW_SP.id}\n`,
    );
  });

  void it('shows a missing service principal as not found', async () => {
    const run = await kit.run('sp', 'show', '--id', '99999999-0000-4000-8000-000000000009');
    assert.equal(run.exitCode, 3);
    assert.match(run.stderr, /no service principal has appId or object id '99999999-/);
  });
  void it('set-reply-urls replaces the list through Graph and shows it; bad combinations send nothing', async () => {
    const path = `/v1.0/servicePrincipals/${NEW_SP.id}`;
    let stored: string[] = [];
    kit.transport
      .on('GET', '/v1.0/servicePrincipals', { body: { value: [NEW_SP] } })
      .on('PATCH', path, (r) => {
        stored = (r.body as { replyUrls: string[] }).replyUrls;
        return { status: 204 };
      })
      .on('GET', path, () => ({ body: { ...NEW_SP, replyUrls: stored } }));
    const set = await kit.run(
      'sp',
      'set-reply-urls',
      '--id',
      NEW_SP.appId,
      '--reply-urls',
      'https://portal.example/callback',
      'https://portal.example/other',
      '-o',
      'table',
    );
    assert.equal(set.exitCode, 0, set.stderr);
    assert.deepEqual(stored, ['https://portal.example/callback', 'https://portal.example/other']);
    assert.match(
      set.stdout,
      /onboarding\s+\S+\s+\S+\s+https:\/\/portal\.example\/callback https:\/\/portal\.example\/other/,
    );
    const cleared = await kit.run('sp', 'set-reply-urls', '--id', NEW_SP.appId, '--clear');
    assert.equal(cleared.exitCode, 0, cleared.stderr);
    assert.deepEqual(stored, []);
    const sent = kit.transport.requests.length;
    const neither = await kit.run('sp', 'set-reply-urls', '--id', NEW_SP.appId);
    assert.equal(neither.exitCode, 2);
    assert.match(neither.stderr, /pass either --reply-urls URL… or --clear/);
    assert.equal(kit.transport.requests.length, sent);
  });
});
