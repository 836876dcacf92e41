// `tether role`: role names and GUIDs resolved at the scope, assignees found by appId or
// sign-in name, scope filtering of assignment lists, deletion by filter, and custom roles.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { CliTestKit, TEST_SUBSCRIPTION } from '../client/testing/cli-test-kit.js';
import type { RecordedRequest } from '../client/testing/fake-transport.js';
import { register } from './role.js';

const SUB = `/subscriptions/${TEST_SUBSCRIPTION}`;
const RG = `${SUB}/resourceGroups/rg`;
const AUTH = '/providers/Microsoft.Authorization';
const READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';
const OWNER = '8e3af657-a8ff-443c-a75c-2fe8c4bcb635';
const SP = {
  id: 'cccccccc-0000-4000-8000-00000000000c',
  appId: 'dddddddd-0000-4000-8000-00000000000d',
  displayName: 'deploy',
};
const USER = {
  id: 'bbbbbbbb-0000-4000-8000-00000000000b',
  displayName: 'Ada',
  userPrincipalName: 'ada@contoso.example',
};

const definition = (guid: string, roleName: string, type = 'BuiltInRole') => ({
  id: `${SUB}${AUTH}/roleDefinitions/${guid}`,
  name: guid,
  type: 'Microsoft.Authorization/roleDefinitions',
  properties: {
    roleName,
    description: `${roleName} role`,
    type,
    permissions: [],
    assignableScopes: ['/'],
  },
});
const assignment = (name: string, scope: string, principal: string, role: string) => ({
  id: `${scope}${AUTH}/roleAssignments/${name}`,
  name,
  type: 'Microsoft.Authorization/roleAssignments',
  properties: {
    scope: scope.toLowerCase(),
    principalId: principal,
    principalType: 'ServicePrincipal',
    roleDefinitionId: `${SUB}${AUTH}/roleDefinitions/${role}`,
  },
});
const ASSIGNMENTS = [
  assignment('a0000000-0000-4000-8000-000000000001', SUB, SP.id, OWNER),
  assignment('a0000000-0000-4000-8000-000000000002', RG, SP.id, READER),
  assignment(
    'a0000000-0000-4000-8000-000000000003',
    `${RG}/providers/Microsoft.HybridCompute/machines/web`,
    SP.id,
    READER,
  ),
];

function roleList(r: RecordedRequest) {
  const all = [definition(READER, 'Reader'), definition(OWNER, 'Owner')];
  const filter = /^roleName eq '(.*)'$/.exec(r.query.get('$filter') ?? '')?.[1];
  return {
    body: {
      value: all.filter(
        (d) => filter === undefined || d.properties.roleName.toLowerCase() === filter.toLowerCase(),
      ),
    },
  };
}

void describe('tether role', () => {
  let kit: CliTestKit;
  beforeEach(async () => {
    kit = await CliTestKit.create(register);
    await kit.signIn();
    kit.transport
      .on('GET', new RegExp(`${AUTH}/roleDefinitions$`), roleList)
      .on('GET', new RegExp(`${AUTH}/roleDefinitions/${READER}$`), {
        body: definition(READER, 'Reader'),
      })
      .on('GET', '/v1.0/servicePrincipals', (r) => ({
        body: { value: r.query.get('$filter') === `appId eq '${SP.appId}'` ? [SP] : [] },
      }))
      .on('GET', `/v1.0/servicePrincipals/${SP.id}`, { body: SP })
      .on('GET', '/v1.0/users', { body: { value: [USER] } })
      .on('PUT', /\/roleAssignments\/[0-9a-f-]{36}$/, (r) => ({
        status: 201,
        body: {
          id: r.path,
          name: r.path.split('/').pop(),
          properties: {
            ...(r.body as { properties: object }).properties,
            scope: r.path.split(AUTH)[0],
          },
        },
      }))
      .on('GET', new RegExp(`${AUTH}/roleAssignments$`), { body: { value: ASSIGNMENTS } })
      .on('DELETE', /\/roleAssignments\//, { status: 200 });
  });
  afterEach(() => kit.dispose());

  void it('assignment create resolves the role name at the scope and the appId to an object id', async () => {
    const run = await kit.run(
      'role',
      'assignment',
      'create',
      '--assignee',
      SP.appId,
      '--role',
      'Reader',
      '--scope',
      RG,
    );
    assert.equal(run.exitCode, 0, run.stderr);
    const put = kit.transport.requests.find((r) => r.method === 'PUT');
    assert.match(put?.path ?? '', new RegExp(`^${RG}${AUTH}/roleAssignments/[0-9a-f-]{36}$`));
    assert.deepEqual(put?.body, {
      properties: {
        roleDefinitionId: `${SUB}${AUTH}/roleDefinitions/${READER}`,
        principalId: SP.id,
        principalType: 'ServicePrincipal',
      },
    });
    const shown = JSON.parse(run.stdout) as Record<string, unknown>;
    assert.equal(shown['roleDefinitionName'], 'Reader');
    assert.equal(shown['principalId'], SP.id);
    const lookup = kit.transport.requests.find((r) => r.path.endsWith('/roleDefinitions'));
    assert.equal(lookup?.path, `${RG}${AUTH}/roleDefinitions`);
    assert.equal(lookup?.query.get('$filter'), "roleName eq 'Reader'");
  });

  void it('assignment create takes a role GUID and a user principal name, with -g as the scope', async () => {
    const run = await kit.run(
      'role',
      'assignment',
      'create',
      '--assignee',
      'ada@contoso.example',
      '--role',
      READER,
      '-g',
      'rg',
      '-o',
      'table',
    );
    assert.equal(run.exitCode, 0, run.stderr);
    const put = kit.transport.requests.find((r) => r.method === 'PUT');
    assert.equal(
      (put?.body as { properties: { principalType: string } }).properties.principalType,
      'User',
    );
    assert.match(run.stdout, /^Principal\s+PrincipalType\s+Role\s+Scope\n/);
    assert.match(run.stdout, new RegExp(`Ada\\s+User\\s+Reader\\s+${RG}`));
  });

  const refusals: [string, string[], number, RegExp][] = [
    [
      'no scope',
      ['role', 'assignment', 'create', '--assignee', SP.appId, '--role', 'Reader'],
      2,
      /pass --scope \(or --resource-group\)/,
    ],
    [
      'both --scope and -g',
      [
        'role',
        'assignment',
        'create',
        '--assignee',
        SP.appId,
        '--role',
        'Reader',
        '--scope',
        SUB,
        '-g',
        'rg',
      ],
      2,
      /either --scope or --resource-group/,
    ],
    [
      'an assignee that is neither id nor sign-in name',
      ['role', 'assignment', 'create', '--assignee', 'deploy', '--role', 'Reader', '--scope', SUB],
      2,
      /--assignee 'deploy' is not an appId, object id \(GUID\) or user principal name/,
    ],
    [
      'an unknown role',
      [
        'role',
        'assignment',
        'create',
        '--assignee',
        SP.appId,
        '--role',
        'Superuser',
        '--scope',
        SUB,
      ],
      3,
      /no role named 'Superuser'/,
    ],
    [
      'a malformed scope',
      [
        'role',
        'assignment',
        'create',
        '--assignee',
        SP.appId,
        '--role',
        'Reader',
        '--scope',
        '/subscriptions/prod',
      ],
      2,
      /argument '\/subscriptions\/prod' is invalid\. the scope .* is not a scope/,
    ],
    [
      'a bad principal type',
      [
        'role',
        'assignment',
        'create',
        '--assignee-object-id',
        SP.id,
        '--assignee-principal-type',
        'Robot',
        '--role',
        'Reader',
        '--scope',
        SUB,
      ],
      2,
      /Allowed choices are User, Group, ServicePrincipal/,
    ],
  ];
  for (const [name, args, code, message] of refusals) {
    void it(`assignment create refuses ${name} and assigns nothing`, async () => {
      const run = await kit.run(...args);
      assert.equal(run.exitCode, code, run.stderr);
      assert.match(run.stderr, message);
      assert.ok(!kit.transport.calls().some((c) => c.startsWith('PUT')));
    });
  }

  void it('assignment list shows assignments at the scope, or also inherited, or all', async () => {
    const names = async (...args: string[]) =>
      (
        JSON.parse((await kit.run('role', 'assignment', 'list', ...args)).stdout) as {
          name: string;
          roleDefinitionName: string;
          principalName: string;
        }[]
      ).map((a) => `${a.name.slice(-1)}:${a.roleDefinitionName}:${a.principalName}`);
    assert.deepEqual(await names('-g', 'rg'), [`2:Reader:${SP.appId}`]);
    assert.deepEqual(await names('-g', 'rg', '--include-inherited'), [
      `1:Owner:${SP.appId}`,
      `2:Reader:${SP.appId}`,
    ]);
    assert.deepEqual(
      await names('--all'),
      ['1', '2', '3'].map((n, i) => `${n}:${i === 0 ? 'Owner' : 'Reader'}:${SP.appId}`),
    );
    assert.deepEqual(await names('--all', '--role', 'Owner'), [`1:Owner:${SP.appId}`]);
    const filters = kit.transport.requests
      .filter((r) => r.path.endsWith('/roleAssignments'))
      .map((r) => r.query.get('$filter'));
    assert.deepEqual(filters, ['atScope()', 'atScope()', null, null]);
  });

  void it('assignment list --assignee filters by principal id', async () => {
    await kit.run('role', 'assignment', 'list', '--assignee', SP.appId, '--all');
    const list = kit.transport.requests.find((r) => r.path.endsWith('/roleAssignments'));
    assert.equal(list?.query.get('$filter'), `principalId eq '${SP.id}'`);
  });

  void it('assignment delete removes what matches: at the scope, or everywhere in the subscription', async () => {
    assert.equal(
      (
        await kit.run(
          'role',
          'assignment',
          'delete',
          '--assignee',
          SP.appId,
          '--role',
          'Reader',
          '-g',
          'rg',
        )
      ).exitCode,
      0,
    );
    assert.deepEqual(
      kit.transport.calls().filter((c) => c.startsWith('DELETE')),
      [`DELETE ${ASSIGNMENTS[1]?.id}`],
    );
    kit.transport.requests.length = 0;
    assert.equal(
      (await kit.run('role', 'assignment', 'delete', '--assignee', SP.appId, '--role', 'Reader'))
        .exitCode,
      0,
    );
    assert.deepEqual(
      kit.transport.calls().filter((c) => c.startsWith('DELETE')),
      [`DELETE ${ASSIGNMENTS[1]?.id}`, `DELETE ${ASSIGNMENTS[2]?.id}`],
    );
  });

  void it('assignment delete by --ids, and refuses to guess what to delete', async () => {
    const id = ASSIGNMENTS[0]?.id ?? '';
    assert.equal((await kit.run('role', 'assignment', 'delete', '--ids', id)).exitCode, 0);
    assert.deepEqual(kit.transport.calls(), [`DELETE ${id}`]);
    const vague = await kit.run('role', 'assignment', 'delete', '-g', 'rg');
    assert.equal(vague.exitCode, 2);
    assert.match(vague.stderr, /say which assignments to delete/);
    const bad = await kit.run('role', 'assignment', 'delete', '--ids', `${SUB}/x`);
    assert.equal(bad.exitCode, 2);
    assert.match(bad.stderr, /is not a role assignment id/);
    assert.equal(kit.transport.calls().length, 1);
  });

  void it('assignment delete warns when nothing matches', async () => {
    const run = await kit.run('role', 'assignment', 'delete', '--role', 'Owner', '-g', 'rg');
    assert.equal(run.exitCode, 0);
    assert.match(run.stderr, /WARNING: No matched assignments were found to delete\./);
  });

  void it('definition list shows roles as a table', async () => {
    const run = await kit.run('role', 'definition', 'list', '-o', 'table');
    assert.match(run.stdout, /^RoleName\s+Name\s+Type\s+Description\n/);
    assert.match(run.stdout, new RegExp(`Reader\\s+${READER}\\s+BuiltInRole\\s+Reader role`));
    const json = JSON.parse(
      (await kit.run('role', 'definition', 'list', '--name', 'Owner')).stdout,
    ) as { roleName: string; roleType: string }[];
    assert.deepEqual(
      json.map((d) => [d.roleName, d.roleType]),
      [['Owner', 'BuiltInRole']],
    );
  });

  void it('definition create reads az-style JSON from @file and PUTs a custom role', async () => {
    kit.transport.on('PUT', /\/roleDefinitions\/[0-9a-f-]{36}$/, (r) => ({
      status: 201,
      body: {
        id: r.path,
        name: r.path.split('/').pop(),
        properties: (r.body as { properties: object }).properties,
      },
    }));
    const file = join(kit.configDir, '..', 'role.json');
    await writeFile(
      file,
      JSON.stringify({
        Name: 'Machine reader',
        IsCustom: true,
        Description: 'reads machines',
        Actions: ['Microsoft.HybridCompute/machines/read'],
        NotActions: [],
        AssignableScopes: [RG],
      }),
    );
    const run = await kit.run('role', 'definition', 'create', '--role-definition', `@${file}`);
    assert.equal(run.exitCode, 0, run.stderr);
    const put = kit.transport.requests.find((r) => r.method === 'PUT');
    assert.match(put?.path ?? '', new RegExp(`^${RG}${AUTH}/roleDefinitions/[0-9a-f-]{36}$`));
    assert.deepEqual(put?.body, {
      properties: {
        roleName: 'Machine reader',
        description: 'reads machines',
        type: 'CustomRole',
        permissions: [
          {
            actions: ['Microsoft.HybridCompute/machines/read'],
            notActions: [],
            dataActions: [],
            notDataActions: [],
          },
        ],
        assignableScopes: [RG],
      },
    });
    assert.equal((JSON.parse(run.stdout) as { roleType: string }).roleType, 'CustomRole');
  });

  const badDefinitions: [string, string, RegExp][] = [
    [
      'a misspelt key',
      '{"Name":"x","Actons":["*/read"],"AssignableScopes":["/"]}',
      /unknown key 'Actons'; accepted keys: Name, Description, Actions/,
    ],
    ['no scopes', '{"Name":"x","Actions":["*/read"]}', /needs "AssignableScopes"/],
    ['no actions', '{"Name":"x","AssignableScopes":["/"]}', /grants nothing/],
    ['broken JSON', '{"Name":', /is not valid JSON/],
    [
      'an existing name',
      `{"Name":"reader","Actions":["*/read"],"AssignableScopes":["${SUB}"]}`,
      /a role named 'reader' already exists/,
    ],
  ];
  for (const [name, json, message] of badDefinitions) {
    void it(`definition create refuses ${name}`, async () => {
      const run = await kit.run('role', 'definition', 'create', '--role-definition', json);
      assert.equal(run.exitCode, 2);
      assert.match(run.stderr, message);
      assert.ok(!kit.transport.calls().some((c) => c.startsWith('PUT')));
    });
  }
});
