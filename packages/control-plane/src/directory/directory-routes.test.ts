// The /v1.0 directory routes in process: Graph-shaped objects, credentials, groups whose
// members inherit the group's roles, deletion that takes everything along, and bad input.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CONTRIBUTOR_ROLE_ID, READER_ROLE_ID } from '../rbac/built-in-roles.js';
import { TestControlPlane } from '../server/testing/test-control-plane.js';

const DAY_MS = 86_400_000;

void describe('directory routes', () => {
  let plane: TestControlPlane;
  let owner: string;
  before(async () => {
    plane = await TestControlPlane.start();
    owner = await plane.ownerToken();
  });
  after(() => plane.close());

  const call = (method: string, url: string, body?: unknown, token = owner) =>
    plane.request(method, url, { token, ...(body === undefined ? {} : { body }) });
  const errorOf = (answer: { body: Record<string, unknown> }) =>
    answer.body['error'] as { code: string; message: string; target?: string };

  /** A service principal with a secret and its token. */
  const principalWithToken = async (displayName: string) => {
    const sp = await call('POST', '/v1.0/servicePrincipals', { displayName });
    assert.equal(sp.status, 201, JSON.stringify(sp.body));
    const id = String(sp.body['id']);
    const password = await call('POST', `/v1.0/servicePrincipals/${id}/addPassword`, {});
    const token = await plane.token(String(sp.body['appId']), String(password.body['secretText']));
    return { id, appId: String(sp.body['appId']), token };
  };

  /** Grants a role at the tenant root, the way the role-assignment API does (database, then engine). */
  const assign = async (
    principalId: string,
    principalType: 'User' | 'Group' | 'ServicePrincipal',
    role: string,
  ) => {
    const name = crypto.randomUUID();
    await plane.db
      .insertInto('role_assignments')
      .values({
        name,
        scope: '/',
        role_definition_name: role,
        principal_id: principalId,
        principal_type: principalType,
        created_at: new Date(plane.clock.now()).toISOString(),
        created_by: 'test',
      })
      .execute();
    plane.controlPlane.authorizer.putRoleAssignment({
      name,
      scope: '/',
      roleDefinitionName: role,
      principalId,
      principalType,
    });
    return name;
  };

  void it('creates a service principal that is its own application, and shows it', async () => {
    const created = await call('POST', '/v1.0/servicePrincipals', { displayName: 'web-deployer' });
    assert.equal(created.status, 201);
    assert.equal(created.body['displayName'], 'web-deployer');
    assert.equal(created.body['servicePrincipalType'], 'Application');
    assert.match(String(created.body['id']), /^[0-9a-f-]{36}$/);
    assert.match(String(created.body['appId']), /^[0-9a-f-]{36}$/);
    assert.notEqual(created.body['id'], created.body['appId']);
    const shown = await call(
      'GET',
      `/v1.0/servicePrincipals/${String(created.body['id']).toUpperCase()}`,
    );
    assert.equal(shown.status, 200);
    assert.deepEqual(shown.body['passwordCredentials'], []);
    const byAppId = await call(
      'GET',
      `/v1.0/servicePrincipals?$filter=appId eq '${String(created.body['appId'])}'`,
    );
    assert.deepEqual(
      (byAppId.body['value'] as { id: string }[]).map((v) => v.id),
      [created.body['id']],
    );
  });

  void it('adds passwords with expiry, shows them without the secret, and removes them', async () => {
    const sp = await call('POST', '/v1.0/servicePrincipals', { displayName: 'pw' });
    const id = String(sp.body['id']);
    const end = new Date(plane.clock.now() + 30 * DAY_MS).toISOString();
    const added = await call('POST', `/v1.0/servicePrincipals/${id}/addPassword`, {
      passwordCredential: { displayName: 'ci', endDateTime: end },
    });
    assert.equal(added.status, 200);
    const secret = String(added.body['secretText']);
    assert.ok(secret.length >= 43);
    assert.equal(added.body['endDateTime'], end);
    const second = await call('POST', `/v1.0/servicePrincipals/${id}/addPassword`, {});
    assert.equal(
      second.body['endDateTime'],
      new Date(plane.clock.now() + 365 * DAY_MS).toISOString(),
      'one year by default',
    );

    const shown = await call('GET', `/v1.0/servicePrincipals/${id}`);
    const passwords = shown.body['passwordCredentials'] as Record<string, unknown>[];
    assert.equal(passwords.length, 2);
    assert.ok(!JSON.stringify(shown.body).includes(secret), 'the secret is shown only once');
    assert.deepEqual(Object.keys(passwords[0] ?? {}).sort(), [
      'displayName',
      'endDateTime',
      'hint',
      'keyId',
      'startDateTime',
    ]);

    const stored = await plane.db
      .selectFrom('credentials')
      .select('secret_hash')
      .where('principal_id', '=', id)
      .execute();
    assert.ok(stored.every((r) => r.secret_hash !== null && !r.secret_hash.includes(secret)));

    const removed = await call('POST', `/v1.0/servicePrincipals/${id}/removePassword`, {
      keyId: added.body['keyId'],
    });
    assert.equal(removed.status, 204);
    const again = await call('POST', `/v1.0/servicePrincipals/${id}/removePassword`, {
      keyId: added.body['keyId'],
    });
    assert.equal(again.status, 404);
  });

  void it('refuses bad credential input, naming the field, and changes nothing', async () => {
    const sp = await call('POST', '/v1.0/servicePrincipals', { displayName: 'bad-input' });
    const id = String(sp.body['id']);
    const cases: [unknown, string, RegExp][] = [
      [
        { passwordCredential: { endDateTime: 'tomorrow' } },
        'passwordCredential.endDateTime',
        /ISO 8601/,
      ],
      [
        { passwordCredential: { endDateTime: new Date(plane.clock.now() - DAY_MS).toISOString() } },
        'passwordCredential.endDateTime',
        /in the past/,
      ],
      [
        {
          passwordCredential: {
            endDateTime: new Date(plane.clock.now() + 800 * DAY_MS).toISOString(),
          },
        },
        'passwordCredential.endDateTime',
        /at most 730 days/,
      ],
      [
        { passwordCredential: { secretText: 'chosen-by-me' } },
        'passwordCredential',
        /'displayName', 'endDateTime'/,
      ],
      [{ other: 1 }, 'other', /not accepted/],
    ];
    for (const [body, target, message] of cases) {
      const answer = await call('POST', `/v1.0/servicePrincipals/${id}/addPassword`, body);
      assert.equal(answer.status, 400, JSON.stringify(body));
      assert.equal(errorOf(answer).code, 'InvalidRequestContent');
      assert.equal(errorOf(answer).target, target);
      assert.match(errorOf(answer).message, message);
    }
    const key = await call('POST', `/v1.0/servicePrincipals/${id}/addKey`, {
      keyCredential: { key: 'not a certificate' },
    });
    assert.equal(key.status, 400);
    assert.match(errorOf(key).message, /not a readable X\.509 certificate/);
    const shown = await call('GET', `/v1.0/servicePrincipals/${id}`);
    assert.deepEqual(shown.body['passwordCredentials'], []);
    assert.deepEqual(shown.body['keyCredentials'], []);
  });

  void it('refuses malformed ids and missing objects clearly', async () => {
    const bad = await call('GET', '/v1.0/servicePrincipals/not-a-guid');
    assert.equal(bad.status, 400);
    assert.match(errorOf(bad).message, /GUID/);
    const missing = await call(
      'GET',
      '/v1.0/servicePrincipals/00000000-0000-0000-0000-000000000000',
    );
    assert.equal(missing.status, 404);
    assert.equal(errorOf(missing).code, 'ResourceNotFound');
    const filter = await call('GET', "/v1.0/groups?$filter=endswith(displayName,'a')");
    assert.equal(filter.status, 400);
    assert.match(errorOf(filter).message, /displayName eq/);
    const name = await call('POST', '/v1.0/groups', { displayName: '' });
    assert.equal(name.status, 400);
    assert.equal(errorOf(name).target, 'displayName');
  });

  void it('pages lists with @odata.nextLink', async () => {
    for (const n of [1, 2, 3]) await call('POST', '/v1.0/groups', { displayName: `paged-${n}` });
    const seen: string[] = [];
    let url: string | undefined = '/v1.0/groups?$top=2';
    while (url !== undefined) {
      const page = await call('GET', url);
      assert.equal(page.status, 200);
      seen.push(...(page.body['value'] as { displayName: string }[]).map((g) => g.displayName));
      const next = page.body['@odata.nextLink'] as string | undefined;
      url = next === undefined ? undefined : next.replace('https://tether.test:8443', '');
    }
    assert.deepEqual(seen.filter((n) => n.startsWith('paged-')).sort(), [
      'paged-1',
      'paged-2',
      'paged-3',
    ]);
  });

  void it('finds a service principal by its names, as az role does, across pages', async () => {
    const first = await principalWithToken('named-1');
    await principalWithToken('named-2');
    const filter = encodeURIComponent(
      `servicePrincipalNames/any(c:c eq '${first.appId.toUpperCase()}')`,
    );
    const found = await call('GET', `/v1.0/servicePrincipals?$filter=${filter}`);
    assert.equal(found.status, 200, JSON.stringify(found.body));
    const value = found.body['value'] as { id: string; servicePrincipalNames: string[] }[];
    assert.deepEqual(
      value.map((p) => p.id),
      [first.id],
    );
    assert.deepEqual(value[0]?.servicePrincipalNames, [first.appId]);
    const paged = await call(
      'GET',
      `/v1.0/servicePrincipals?$top=1&$filter=${encodeURIComponent("servicePrincipalNames/any(x:x eq 'nobody')")}`,
    );
    assert.deepEqual(paged.body['value'], []);
    for (const bad of [
      "servicePrincipalNames eq 'x'",
      "displayName/any(c:c eq 'x')",
      "servicePrincipalNames/any(c:d eq 'x')",
    ]) {
      const refused = await call(
        'GET',
        `/v1.0/servicePrincipals?$filter=${encodeURIComponent(bad)}`,
      );
      assert.equal(refused.status, 400, bad);
      assert.match(errorOf(refused).message, /servicePrincipalNames\/any\(c:c eq/, bad);
    }
  });

  void it('lists by display name prefix, case-insensitively, wildcards taken literally', async () => {
    for (const name of ['Web_Front', 'web-back', 'WebXFront', 'db']) {
      await call('POST', '/v1.0/groups', { displayName: name });
    }
    const names = async (filter: string) => {
      const page = await call('GET', `/v1.0/groups?$filter=${encodeURIComponent(filter)}`);
      assert.equal(page.status, 200, JSON.stringify(page.body));
      return (page.body['value'] as { displayName: string }[]).map((g) => g.displayName).sort();
    };
    assert.deepEqual(await names("startswith(displayName,'WEB')"), [
      'WebXFront',
      'Web_Front',
      'web-back',
    ]);
    assert.deepEqual(await names("startswith(displayName,'web_')"), ['Web_Front']);
    const refused = await call(
      'GET',
      `/v1.0/groups?$filter=${encodeURIComponent("endswith(displayName,'x')")}`,
    );
    assert.equal(refused.status, 400);
    assert.match(errorOf(refused).message, /startswith\(displayName,'…'\)/);
  });

  void it('gets objects of any kind by id, only the kinds asked for and the caller may read', async () => {
    const sp = await principalWithToken('by-id');
    const group = await call('POST', '/v1.0/groups', { displayName: 'by-id-group' });
    const groupId = String(group.body['id']);
    const missing = crypto.randomUUID();
    const all = await call('POST', '/v1.0/directoryObjects/getByIds', {
      ids: [sp.id, groupId.toUpperCase(), missing],
      types: ['user', 'group', 'servicePrincipal', 'directoryObjectPartnerReference'],
    });
    assert.equal(all.status, 200, JSON.stringify(all.body));
    const value = all.body['value'] as { id: string; '@odata.type': string }[];
    assert.deepEqual(
      value.map((o) => [o.id, o['@odata.type']]).sort(),
      [
        [groupId, '#microsoft.graph.group'],
        [sp.id, '#microsoft.graph.servicePrincipal'],
      ].sort(),
    );
    const onlyGroups = await call('POST', '/v1.0/directoryObjects/getByIds', {
      ids: [sp.id, groupId],
      types: ['group'],
    });
    assert.deepEqual(
      (onlyGroups.body['value'] as { id: string }[]).map((o) => o.id),
      [groupId],
    );
    const denied = await call(
      'POST',
      '/v1.0/directoryObjects/getByIds',
      { ids: [groupId] },
      sp.token,
    );
    assert.equal(denied.status, 403, 'reading the directory needs its read actions');
    for (const [body, target] of [
      [{ ids: [] }, 'ids'],
      [{ ids: ['not-a-guid'] }, 'ids'],
      [{ ids: [sp.id], types: ['planet'] }, 'types'],
      [{ ids: [sp.id], extra: 1 }, 'extra'],
    ] as const) {
      const refused = await call('POST', '/v1.0/directoryObjects/getByIds', body);
      assert.equal(refused.status, 400, JSON.stringify(body));
      assert.equal(errorOf(refused).target, target);
    }
  });

  void it('creates users, refusing a duplicate or malformed userPrincipalName', async () => {
    const created = await call('POST', '/v1.0/users', {
      displayName: 'Alice',
      userPrincipalName: 'Alice@Contoso.com',
    });
    assert.equal(created.status, 201);
    assert.equal(created.body['userPrincipalName'], 'alice@contoso.com');
    const duplicate = await call('POST', '/v1.0/users', {
      displayName: 'Alice 2',
      userPrincipalName: 'alice@contoso.com',
    });
    assert.equal(duplicate.status, 409);
    const malformed = await call('POST', '/v1.0/users', {
      displayName: 'Bob',
      userPrincipalName: 'bob',
    });
    assert.equal(malformed.status, 400);
    assert.equal(errorOf(malformed).target, 'userPrincipalName');
    const found = await call('GET', "/v1.0/users?$filter=userPrincipalName eq 'ALICE@contoso.com'");
    assert.deepEqual(
      (found.body['value'] as { id: string }[]).map((u) => u.id),
      [created.body['id']],
    );
  });

  void it("gives a group's members the group's role, and takes it away with the membership", async () => {
    const member = await principalWithToken('reader-by-group');
    const group = await call('POST', '/v1.0/groups', {
      displayName: 'readers',
      description: 'can read',
    });
    const groupId = String(group.body['id']);
    await assign(groupId, 'Group', READER_ROLE_ID);
    assert.equal((await call('GET', '/v1.0/users', undefined, member.token)).status, 403);

    const ref = { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${member.id}` };
    assert.equal((await call('POST', `/v1.0/groups/${groupId}/members/$ref`, ref)).status, 204);
    assert.equal((await call('GET', '/v1.0/users', undefined, member.token)).status, 200);
    const duplicate = await call('POST', `/v1.0/groups/${groupId}/members/$ref`, ref);
    assert.equal(duplicate.status, 400);
    assert.match(errorOf(duplicate).message, /already a member/);
    const members = await call('GET', `/v1.0/groups/${groupId}/members`);
    assert.deepEqual(members.body['value'], [
      {
        '@odata.type': '#microsoft.graph.servicePrincipal',
        id: member.id,
        appId: member.appId,
        displayName: 'reader-by-group',
      },
    ]);

    assert.equal(
      (await call('DELETE', `/v1.0/groups/${groupId}/members/${member.id}/$ref`)).status,
      204,
    );
    assert.equal((await call('GET', '/v1.0/users', undefined, member.token)).status, 403);
  });

  void it('keeps a Contributor from writing the directory, and lets it read', async () => {
    const contributor = await principalWithToken('contributor');
    await assign(contributor.id, 'ServicePrincipal', CONTRIBUTOR_ROLE_ID);
    assert.equal(
      (await call('GET', '/v1.0/servicePrincipals', undefined, contributor.token)).status,
      200,
    );
    const group = await call('POST', '/v1.0/groups', { displayName: 'owners' });
    const join = await call(
      'POST',
      `/v1.0/groups/${String(group.body['id'])}/members/$ref`,
      { '@odata.id': `/v1.0/directoryObjects/${contributor.id}` },
      contributor.token,
    );
    assert.equal(join.status, 403);
    assert.equal(errorOf(join).code, 'AuthorizationFailed');
    const mint = await call(
      'POST',
      `/v1.0/servicePrincipals/${contributor.id}/addPassword`,
      {},
      contributor.token,
    );
    assert.equal(mint.status, 403);
  });

  void it('deletes a principal with its credentials, memberships and role assignments', async () => {
    const doomed = await principalWithToken('doomed');
    const group = await call('POST', '/v1.0/groups', { displayName: 'doomed-group' });
    const groupId = String(group.body['id']);
    await call('POST', `/v1.0/groups/${groupId}/members/$ref`, {
      '@odata.id': `/v1.0/directoryObjects/${doomed.id}`,
    });
    await assign(doomed.id, 'ServicePrincipal', READER_ROLE_ID);
    assert.equal((await call('GET', '/v1.0/users', undefined, doomed.token)).status, 200);

    assert.equal((await call('DELETE', `/v1.0/servicePrincipals/${doomed.id}`)).status, 204);
    assert.equal((await call('GET', `/v1.0/servicePrincipals/${doomed.id}`)).status, 404);
    const left = async (table: 'credentials' | 'role_assignments', column: 'principal_id') =>
      (await plane.db.selectFrom(table).select(column).where(column, '=', doomed.id).execute())
        .length;
    assert.equal(await left('credentials', 'principal_id'), 0);
    assert.equal(await left('role_assignments', 'principal_id'), 0);
    assert.deepEqual((await call('GET', `/v1.0/groups/${groupId}/members`)).body['value'], []);
    assert.equal(
      plane.controlPlane.authorizer.isAllowed(
        doomed.id,
        'Microsoft.Authorization/directory/users/read',
        '/',
      ),
      false,
    );
    assert.equal((await call('GET', '/v1.0/users', undefined, doomed.token)).status, 401);
  });

  void it('keeps everything across a restart', async () => {
    const kept = await principalWithToken('kept');
    await assign(kept.id, 'ServicePrincipal', READER_ROLE_ID);
    const group = await call('POST', '/v1.0/groups', { displayName: 'kept-group' });
    await call('POST', `/v1.0/groups/${String(group.body['id'])}/members/$ref`, {
      '@odata.id': `/v1.0/directoryObjects/${kept.id}`,
    });
    await plane.restart();
    owner = await plane.ownerToken();
    assert.equal(
      (await call('GET', '/v1.0/users', undefined, kept.token)).status,
      200,
      'token, credential and role survive',
    );
    const members = await call('GET', `/v1.0/groups/${String(group.body['id'])}/members`);
    assert.deepEqual(
      (members.body['value'] as { id: string }[]).map((m) => m.id),
      [kept.id],
    );
  });

  void it('records directory writes in the activity log, refused ones too, never the secret', async () => {
    const sp = await call('POST', '/v1.0/servicePrincipals', { displayName: 'logged' });
    const added = await call(
      'POST',
      `/v1.0/servicePrincipals/${String(sp.body['id'])}/addPassword`,
      {},
    );
    const refused = await call('POST', '/v1.0/servicePrincipals', { displayName: 7 });
    const correlation = (answer: { headers: Record<string, unknown> }) =>
      String(answer.headers['x-ms-correlation-request-id']);
    const events = await plane.db
      .selectFrom('activity_log')
      .selectAll()
      .where('correlation_id', 'in', [sp, added, refused].map(correlation))
      .orderBy('event_timestamp')
      .execute();
    assert.deepEqual(
      events
        .map((e) => [e.correlation_id, e.caller, e.operation_name, e.status, e.sub_status])
        .sort(),
      [
        [
          correlation(sp),
          plane.installation.appId,
          'Microsoft.Authorization/directory/servicePrincipals/write',
          'Succeeded',
          '201',
        ],
        [
          correlation(added),
          plane.installation.appId,
          'Microsoft.Authorization/directory/servicePrincipals/write',
          'Succeeded',
          '200',
        ],
        [
          correlation(refused),
          plane.installation.appId,
          'Microsoft.Authorization/directory/servicePrincipals/write',
          'Failed',
          'InvalidRequestContent',
        ],
      ].sort(),
    );
    assert.ok(!JSON.stringify(events).includes(String(added.body['secretText'])));
  });
});
