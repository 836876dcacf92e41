// Who may do what with extensions, and bad input refused with a specific 400 that changes
// nothing: the database holds exactly what it held before.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CUSTOM_SCRIPT, ExtensionTestWorld, V } from './testing/extension-test-world.js';

void describe('extension access and input', () => {
  let w: ExtensionTestWorld;
  before(async () => {
    w = await ExtensionTestWorld.create();
    await w.publish(CUSTOM_SCRIPT.publisher, CUSTOM_SCRIPT.type, '2.1.0');
  });
  after(() => w.close());

  async function snapshot(): Promise<string> {
    const tables = ['machine_extensions', 'extension_operations', 'extension_goal_states'] as const;
    const rows = await Promise.all(tables.map((t) => w.t.db.selectFrom(t).selectAll().execute()));
    return JSON.stringify(rows);
  }

  void it('refuses writers without the extension actions', async () => {
    const before = await snapshot();
    for (const [who, as] of [
      ['Reader', w.reader],
      ['Onboarding', w.onboarder],
      ['the machine itself', w.machineA],
    ] as const) {
      const put = await w.put('CustomScript', CUSTOM_SCRIPT, as);
      assert.equal(put.status, 403, `${who}: ${JSON.stringify(put.body)}`);
      assert.equal((put.body['error'] as { code: string }).code, 'AuthorizationFailed');
      const upgrade = await w.call('POST', `${w.machine()}/upgradeExtensions?${V}`, {
        as,
        body: { extensionTargets: { 'A.B': { targetVersion: '1.0' } } },
      });
      assert.equal(upgrade.status, 403, who);
    }
    assert.equal(
      (await w.call('GET', `${w.machine()}/extensions?${V}`, { as: w.onboarder })).status,
      403,
      'Onboarding cannot even read extensions',
    );
    assert.equal(
      (await w.call('GET', `${w.machine()}/extensions?${V}`, { as: w.reader })).status,
      200,
    );
    assert.equal(await snapshot(), before);
  });

  void it('keeps each machine to its own goal state and status', async () => {
    assert.equal((await w.goalState('', w.machineB)).status, 403);
    assert.equal((await w.goalState('', w.machineA)).status, 200);
    const report = await w.report({ name: 'CustomScript', result: 'Succeeded' }, w.machineB);
    assert.equal(report.status, 403);
    assert.equal((await w.goalState('', w.admin)).status, 200, 'the administrator role may look');
  });

  void it('marks an operation delivered only when the machine itself reads its goal state', async () => {
    const created = await w.put('Delivery', CUSTOM_SCRIPT);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const delivered = async (): Promise<string | null> => {
      const row = await w.t.db
        .selectFrom('extension_operations')
        .innerJoin(
          'machine_extensions',
          'machine_extensions.id',
          'extension_operations.extension_id',
        )
        .select('extension_operations.delivered_at')
        .where('machine_extensions.name', '=', 'Delivery')
        .where('extension_operations.status', '=', 'InProgress')
        .executeTakeFirstOrThrow();
      return row.delivered_at;
    };
    for (const [who, as] of [
      ['Reader', w.reader],
      ['the administrator', w.admin],
    ] as const) {
      assert.equal((await w.goalState('', as)).status, 200, who);
      assert.equal(await delivered(), null, `${who} reading the goal state delivers nothing`);
    }
    assert.equal((await w.goalState('', w.machineA)).status, 200);
    assert.notEqual(await delivered(), null, "the machine's own read delivers it");
  });

  void it('refuses operation status to callers who cannot read the extension', async () => {
    const created = await w.put('Probe', CUSTOM_SCRIPT);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const status = ExtensionTestWorld.operationPath(created);
    assert.equal((await w.call('GET', status, { as: w.onboarder })).status, 403);
    assert.equal((await w.call('GET', status, { as: w.reader })).status, 200);
    const unknown = status.replace(
      /operationStatuses\/[0-9a-f-]+/,
      'operationStatuses/00000000-0000-0000-0000-000000000000',
    );
    assert.equal((await w.call('GET', unknown, { as: w.admin })).status, 404);
  });

  const BAD: [string, string, Record<string, unknown>, string, string][] = [
    [
      'a publisher with a space',
      'Bad',
      { publisher: 'Microsoft Azure', type: 'X' },
      'InvalidRequestContent',
      'properties.publisher',
    ],
    [
      'an empty type',
      'Bad',
      { publisher: 'Microsoft.Azure.Extensions', type: '' },
      'InvalidRequestContent',
      'properties.type',
    ],
    [
      'an unpublished version',
      'Bad',
      { ...CUSTOM_SCRIPT, typeHandlerVersion: '9.0', autoUpgradeMinorVersion: false },
      'ExtensionPackageNotFound',
      'properties.typeHandlerVersion',
    ],
    [
      'an unknown package',
      'Bad',
      { publisher: 'Contoso', type: 'Nothing' },
      'ExtensionPackageNotFound',
      'properties.publisher',
    ],
    [
      'a mistyped type of a known publisher',
      'Bad',
      { publisher: CUSTOM_SCRIPT.publisher, type: 'CustomScrip' },
      'ExtensionPackageNotFound',
      'properties.type',
    ],
    [
      'settings that are not an object',
      'Bad',
      { ...CUSTOM_SCRIPT, settings: '{"a":1' },
      'InvalidRequestContent',
      'properties.settings',
    ],
    [
      'protected settings as a list',
      'Bad',
      { ...CUSTOM_SCRIPT, protectedSettings: ['x'] },
      'InvalidRequestContent',
      'properties.protectedSettings',
    ],
    [
      'a version that is not a version',
      'Bad',
      { ...CUSTOM_SCRIPT, typeHandlerVersion: 'latest' },
      'InvalidRequestContent',
      'properties.typeHandlerVersion',
    ],
    [
      'a read-only field',
      'Bad',
      { ...CUSTOM_SCRIPT, provisioningState: 'Succeeded' },
      'InvalidRequestContent',
      'properties.provisioningState',
    ],
    ['a bad extension name', 'bad name!', CUSTOM_SCRIPT, 'InvalidResourceName', 'extensionName'],
  ];
  for (const [what, name, properties, code, target] of BAD) {
    void it(`refuses ${what} with ${code}`, async () => {
      const before = await snapshot();
      const answer = await w.put(encodeURIComponent(name), properties);
      assert.equal(answer.status, 400, JSON.stringify(answer.body));
      assert.deepEqual(
        [
          (answer.body['error'] as { code: string }).code,
          (answer.body['error'] as { target: string }).target,
        ],
        [code, target],
      );
      assert.equal(await snapshot(), before);
    });
  }

  void it('suggests the published name closest to a mistyped one, or says where to look', async () => {
    const typo = await w.put('Typo', {
      publisher: 'Microsoft.Azure.Extension',
      type: 'customscript',
    });
    assert.equal(typo.status, 400);
    assert.equal(
      (typo.body['error'] as { message: string }).message,
      `The repository has no extension Microsoft.Azure.Extension/customscript (publisher 'Microsoft.Azure.Extension', type 'customscript'): did you mean ${CUSTOM_SCRIPT.publisher}/${CUSTOM_SCRIPT.type}?`,
    );
    const far = await w.put('Far', { publisher: 'Contoso', type: 'Nothing' });
    assert.match(
      (far.body['error'] as { message: string }).message,
      /no extension Contoso\/Nothing .*'tether extension list' shows what is published/,
    );
  });

  void it('refuses an unknown api-version and a machine without a key for protected settings', async () => {
    const before = await snapshot();
    const badVersion = await w.call('PUT', `${w.extension('X')}?api-version=2099-01-01`, {
      as: w.admin,
      body: { properties: CUSTOM_SCRIPT },
    });
    assert.equal(badVersion.status, 400);
    assert.equal((badVersion.body['error'] as { code: string }).code, 'InvalidApiVersionParameter');
    await w.t.db
      .updateTable('machines')
      .set({ properties: '{}' })
      .where('id', '=', w.machine('web-02').toLowerCase())
      .execute();
    const noKey = await w.put(
      'S',
      { ...CUSTOM_SCRIPT, protectedSettings: { secret: 'x' } },
      w.admin,
      'web-02',
    );
    assert.equal(noKey.status, 400);
    assert.equal((noKey.body['error'] as { code: string }).code, 'MachineHasNoKey');
    assert.equal(await snapshot(), before);
  });

  void it('answers 409 to a second operation while one runs, and to a stale status report', async () => {
    const created = await w.put('Busy', CUSTOM_SCRIPT);
    assert.equal(created.status, 201);
    const before = await snapshot();
    for (const [method, body] of [
      ['PUT', { properties: CUSTOM_SCRIPT }],
      ['PATCH', { tags: { a: 'b' } }],
      ['DELETE', undefined],
    ] as const) {
      const answer = await w.call(method, `${w.extension('Busy')}?${V}`, {
        as: w.admin,
        ...(body === undefined ? {} : { body }),
      });
      assert.equal(answer.status, 409, `${method} ${JSON.stringify(answer.body)}`);
      assert.match(
        (answer.body['error'] as { message: string }).message,
        /in progress \(install [0-9a-f-]{36}/,
      );
    }
    const stale = await w.report({
      name: 'Busy',
      operationId: '00000000-0000-4000-8000-000000000000',
      result: 'Succeeded',
    });
    assert.equal(stale.status, 409);
    assert.equal(await snapshot(), before);
  });
});
