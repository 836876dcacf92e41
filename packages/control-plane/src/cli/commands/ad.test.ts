// `tether ad group` and `ad user`: group creation and membership with members named by
// object id, appId or user principal name, as the directory API expects them.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { CliTestKit, TEST_ENDPOINT } from '../client/testing/cli-test-kit.js';
import { register } from './ad.js';

const GROUP = { id: 'aaaaaaaa-0000-4000-8000-00000000000a', displayName: 'ops', description: null };
const USER = {
  id: 'bbbbbbbb-0000-4000-8000-00000000000b',
  displayName: 'Ada',
  userPrincipalName: 'ada@contoso.example',
};
const SP = {
  id: 'cccccccc-0000-4000-8000-00000000000c',
  appId: 'dddddddd-0000-4000-8000-00000000000d',
  displayName: 'deploy',
};

void describe('tether ad', () => {
  let kit: CliTestKit;
  beforeEach(async () => {
    kit = await CliTestKit.create(register);
    await kit.signIn();
    kit.transport
      .on('GET', '/v1.0/groups', (r) => ({
        body: { value: r.query.get('$filter') === "displayName eq 'ops'" ? [GROUP] : [] },
      }))
      .on('GET', `/v1.0/groups/${GROUP.id}`, { body: GROUP })
      .on('GET', '/v1.0/users', { body: { value: [USER] } })
      .on('GET', '/v1.0/servicePrincipals', (r) => ({
        body: { value: r.query.get('$filter') === `appId eq '${SP.appId}'` ? [SP] : [] },
      }))
      .on('POST', /\/members\/\$ref$/, { status: 204 })
      .on('DELETE', /\/members\/.*\/\$ref$/, { status: 204 });
  });
  afterEach(() => kit.dispose());

  void it('group create posts the display name and description', async () => {
    kit.transport.on('POST', '/v1.0/groups', (r) => ({
      status: 201,
      body: { id: 'eeeeeeee-0000-4000-8000-00000000000e', ...(r.body as object) },
    }));
    const run = await kit.run(
      'ad',
      'group',
      'create',
      '--display-name',
      'admins',
      '--mail-nickname',
      'admins',
      '--description',
      'root on every server',
    );
    assert.equal(run.exitCode, 0, run.stderr);
    assert.deepEqual(kit.transport.requests.at(-1)?.body, {
      displayName: 'admins',
      description: 'root on every server',
    });
  });

  void it('member add names the member by @odata.id, found by user principal name', async () => {
    const run = await kit.run(
      'ad',
      'group',
      'member',
      'add',
      '--group',
      'ops',
      '--member-id',
      'ADA@contoso.example',
    );
    assert.equal(run.exitCode, 0, run.stderr);
    const add = kit.transport.requests.at(-1);
    assert.equal(add?.path, `/v1.0/groups/${GROUP.id}/members/$ref`);
    assert.deepEqual(add?.body, {
      '@odata.id': `${TEST_ENDPOINT}/v1.0/directoryObjects/${USER.id}`,
    });
  });

  void it('member add finds a service principal by appId and a group by object id', async () => {
    const run = await kit.run(
      'ad',
      'group',
      'member',
      'add',
      '-g',
      GROUP.id,
      '--member-id',
      SP.appId,
    );
    assert.equal(run.exitCode, 0, run.stderr);
    assert.deepEqual(kit.transport.requests.at(-1)?.body, {
      '@odata.id': `${TEST_ENDPOINT}/v1.0/directoryObjects/${SP.id}`,
    });
  });

  void it('member remove deletes the $ref', async () => {
    assert.equal(
      (await kit.run('ad', 'group', 'member', 'remove', '-g', 'ops', '--member-id', SP.appId))
        .exitCode,
      0,
    );
    assert.deepEqual(
      kit.transport.calls().at(-1),
      `DELETE /v1.0/groups/${GROUP.id}/members/${SP.id}/$ref`,
    );
  });

  void it('names what it cannot find, and what an assignee may be', async () => {
    const group = await kit.run(
      'ad',
      'group',
      'member',
      'add',
      '-g',
      'nobody',
      '--member-id',
      SP.appId,
    );
    assert.equal(group.exitCode, 3);
    assert.match(group.stderr, /no group has object id or display name 'nobody' \(--group\)/);
    const member = await kit.run('ad', 'group', 'member', 'add', '-g', 'ops', '--member-id', 'ada');
    assert.equal(member.exitCode, 2);
    assert.match(
      member.stderr,
      /--member-id 'ada' is not an appId, object id \(GUID\) or user principal name/,
    );
    assert.ok(!kit.transport.calls().some((c) => c.startsWith('POST')));
  });

  void it('member list shows the member types', async () => {
    kit.transport.on('GET', `/v1.0/groups/${GROUP.id}/members`, {
      body: {
        value: [
          { id: SP.id, '@odata.type': '#microsoft.graph.servicePrincipal', displayName: 'deploy' },
        ],
      },
    });
    const run = await kit.run('ad', 'group', 'member', 'list', '-g', 'ops', '-o', 'table');
    assert.match(run.stdout, new RegExp(`deploy\\s+servicePrincipal\\s+${SP.id}`));
  });

  void it('user create refuses a sign-in name without a domain', async () => {
    const run = await kit.run(
      'ad',
      'user',
      'create',
      '--display-name',
      'Ada',
      '--user-principal-name',
      'ada',
    );
    assert.equal(run.exitCode, 2);
    assert.match(run.stderr, /Expected name@domain/);
    assert.equal(kit.transport.requests.length, 0);
  });

  void it('user create sends the password from a file, and tether user is the same group', async () => {
    kit.transport.on('POST', '/v1.0/users', (r) => ({
      status: 201,
      body: { id: 'eeeeeeee-0000-4000-8000-00000000000f', ...(r.body as object) },
    }));
    const file = join(kit.configDir, '..', 'password.txt');
    await writeFile(file, 'correct horse battery staple\nignored\n');
    const run = await kit.run(
      'user',
      'create',
      '--display-name',
      'Ada',
      '--user-principal-name',
      'ada@contoso.example',
      '--password-file',
      file,
    );
    assert.equal(run.exitCode, 0, run.stderr);
    assert.deepEqual(kit.transport.requests.at(-1)?.body, {
      displayName: 'Ada',
      userPrincipalName: 'ada@contoso.example',
      passwordProfile: { password: 'correct horse battery staple' },
    });
  });

  void it('user set-password needs a password and refuses both sources at once', async () => {
    const none = await kit.run('ad', 'user', 'set-password', '--id', 'ada@contoso.example');
    assert.equal(none.exitCode, 2);
    assert.match(none.stderr, /--password or --password-file/);
    const both = await kit.run(
      'ad',
      'user',
      'set-password',
      '--id',
      'ada@contoso.example',
      '--password',
      'x',
      '--password-file',
      'f',
    );
    assert.equal(both.exitCode, 2);
    assert.match(both.stderr, /either --password or --password-file/);
  });
});
