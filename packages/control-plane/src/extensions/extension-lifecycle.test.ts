// An extension's life through the API the way an operator and the machine's agent see it:
// PUT → goal state → status report → Succeeded; PATCH; upgradeExtensions; DELETE → removed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setImmediate as setImmediatePromise } from 'node:timers/promises';
import { OWNER_ROLE_ID } from '../rbac/built-in-roles.js';
import { CUSTOM_SCRIPT, ExtensionTestWorld, V } from './testing/extension-test-world.js';
import { operationWaitersOf } from './operation-waiters.js';

interface GoalExtension {
  name: string;
  version: string;
  sequence: number;
  settings: Record<string, unknown>;
  state: string;
  operation: { id: string; kind: string } | null;
}

const VIEW = {
  name: 'CustomScript',
  type: 'CustomScript',
  typeHandlerVersion: '2.1.3',
  status: { code: '0', level: 'Info', displayStatus: 'Provisioning succeeded', time: 'now' },
};

void describe('extension lifecycle', () => {
  let w: ExtensionTestWorld;
  before(async () => {
    w = await ExtensionTestWorld.create();
    await w.publish(
      CUSTOM_SCRIPT.publisher,
      CUSTOM_SCRIPT.type,
      '2.0.0',
      '2.1.3',
      '2.1.10',
      '3.0.0',
    );
  });
  after(() => w.close());

  async function only(): Promise<{ generation: number; extension: GoalExtension }> {
    const goal = await w.goalState();
    assert.equal(goal.status, 200, JSON.stringify(goal.body));
    const extensions = goal.body['extensions'] as GoalExtension[];
    assert.equal(extensions.length, 1);
    return {
      generation: Number(goal.body['generation']),
      extension: extensions[0] as GoalExtension,
    };
  }

  void it('creates, reports, updates, upgrades and deletes through operations', async () => {
    const created = await w.put('CustomScript', {
      ...CUSTOM_SCRIPT,
      typeHandlerVersion: '2.1',
      settings: { commandToExecute: 'echo hi' },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.headers['retry-after'], '1');
    assert.match(
      String(created.headers['azure-asyncoperation']),
      /^https:\/\/tether\.test:8443\/subscriptions\/[0-9a-f-]+\/providers\/Microsoft\.HybridCompute\/locations\/westeurope\/operationStatuses\/[0-9a-f-]{36}\?api-version=2021-05-20$/,
    );
    const properties = created.body['properties'] as Record<string, unknown>;
    assert.equal(properties['provisioningState'], 'Creating');
    assert.equal(properties['typeHandlerVersion'], '2.1');
    assert.equal(created.body['type'], 'Microsoft.HybridCompute/machines/extensions');
    assert.equal(created.body['id'], w.extension('CustomScript'));
    const statusPath = ExtensionTestWorld.operationPath(created);
    const running = await w.call('GET', statusPath, { as: w.admin });
    assert.equal(running.status, 200, JSON.stringify(running.body));
    assert.equal(running.body['status'], 'InProgress');
    assert.equal(running.headers['retry-after'], '1');

    const first = await only();
    assert.equal(first.generation, 1);
    assert.equal(first.extension.version, '2.1.10', '2.1 with autoUpgradeMinorVersion: newest 2.x');
    assert.equal(first.extension.state, 'enabled');
    assert.deepEqual(first.extension.settings, { commandToExecute: 'echo hi' });
    assert.equal(first.extension.operation?.kind, 'install');
    const delivered = await w.t.db
      .selectFrom('extension_operations')
      .select('delivered_at')
      .where('id', '=', first.extension.operation?.id ?? '')
      .executeTakeFirstOrThrow();
    assert.notEqual(delivered.delivered_at, null, 'answering marks the operation delivered');

    // A poll made while the operation runs is held and answered once the agent reports.
    const held = w.call('GET', statusPath, { as: w.admin });
    while (operationWaitersOf(w.t.db).size === 0) await setImmediatePromise();
    const done = await w.report({
      name: 'CustomScript',
      operationId: first.extension.operation?.id,
      sequence: first.extension.sequence,
      result: 'Succeeded',
      instanceView: VIEW,
    });
    assert.deepEqual(done.body, { accepted: true });
    const finished = await held;
    assert.equal(finished.body['status'], 'Succeeded');
    assert.equal(operationWaitersOf(w.t.db).size, 0);
    assert.equal(finished.headers['retry-after'], undefined);
    const shown = await w.call('GET', `${w.extension('CustomScript')}?${V}`, { as: w.reader });
    const shownProperties = shown.body['properties'] as Record<string, unknown>;
    assert.equal(shownProperties['provisioningState'], 'Succeeded');
    assert.deepEqual(shownProperties['instanceView'], VIEW);
    assert.equal((await only()).extension.operation, null);

    const stale = await w.report({
      name: 'CustomScript',
      operationId: first.extension.operation?.id,
      result: 'Failed',
      error: { code: 'X', message: 'late' },
    });
    assert.equal(stale.status, 409, 'a finished operation cannot be reported again');
    assert.equal((await w.call('GET', statusPath, { as: w.admin })).body['status'], 'Succeeded');

    const patched = await w.call('PATCH', `${w.extension('CustomScript')}?${V}`, {
      as: w.admin,
      body: { properties: { settings: { commandToExecute: 'echo again' } } },
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.ok(patched.headers['azure-asyncoperation']);
    const update = await only();
    assert.equal(update.extension.operation?.kind, 'update');
    assert.equal(update.extension.sequence, first.extension.sequence + 1);
    assert.equal(update.extension.version, '2.1.10', 'fields left out keep their value');
    const busy = await w.put('CustomScript', CUSTOM_SCRIPT);
    assert.equal(busy.status, 409, JSON.stringify(busy.body));
    assert.match(
      String((busy.body['error'] as { message: string }).message),
      /in progress \(update/,
    );
    await w.report({
      name: 'CustomScript',
      operationId: update.extension.operation?.id,
      result: 'Failed',
      error: { code: 'ERR_EXTENSION_NOT_ALLOWED', message: 'blocked by local settings' },
    });
    const failed = await w.call('GET', ExtensionTestWorld.operationPath(patched), { as: w.admin });
    assert.deepEqual(failed.body['error'], {
      code: 'ERR_EXTENSION_NOT_ALLOWED',
      message: 'blocked by local settings',
    });

    const upgraded = await w.call('POST', `${w.machine()}/upgradeExtensions?${V}`, {
      as: w.admin,
      body: {
        extensionTargets: { 'microsoft.azure.extensions.customscript': { targetVersion: '3.0.0' } },
      },
    });
    assert.equal(upgraded.status, 202, JSON.stringify(upgraded.body));
    const upgrade = await only();
    assert.equal(upgrade.extension.operation?.kind, 'upgrade');
    assert.equal(upgrade.extension.version, '3.0.0');
    await w.report({
      name: 'CustomScript',
      operationId: upgrade.extension.operation?.id,
      result: 'Succeeded',
    });

    const deleting = await w.call('DELETE', `${w.extension('CustomScript')}?${V}`, { as: w.admin });
    assert.equal(deleting.status, 202, JSON.stringify(deleting.body));
    assert.ok(deleting.headers['location']);
    const resultPath = new URL(`${deleting.headers['location'] as string}`);
    const pending = await w.call('GET', `${resultPath.pathname}${resultPath.search}`, {
      as: w.admin,
    });
    assert.equal(pending.status, 202);
    const removal = await only();
    assert.equal(removal.extension.state, 'removed');
    assert.equal(removal.extension.operation?.kind, 'remove');
    await w.report({
      name: 'CustomScript',
      operationId: removal.extension.operation?.id,
      result: 'Succeeded',
    });
    const gone = await w.call('GET', `${w.extension('CustomScript')}?${V}`, { as: w.admin });
    assert.equal(gone.status, 404);
    assert.equal(
      (await w.call('GET', `${resultPath.pathname}${resultPath.search}`, { as: w.admin })).status,
      204,
    );
    const again = await w.call('DELETE', `${w.extension('CustomScript')}?${V}`, { as: w.admin });
    assert.equal(again.status, 204);
    const final = await w.goalState();
    assert.deepEqual(final.body['extensions'], []);
    assert.equal(final.body['generation'], 8, 'one per change: four requests, four completions');

    const events = await w.t.db
      .selectFrom('activity_log')
      .select(['operation_name', 'status', 'sub_status', 'resource_id'])
      .where('resource_id', '=', w.extension('CustomScript').toLowerCase())
      .execute();
    assert.ok(
      events.some(
        (e) =>
          e.operation_name === 'Microsoft.HybridCompute/machines/extensions/write' &&
          e.status === 'Failed' &&
          e.sub_status === 'ERR_EXTENSION_NOT_ALLOWED',
      ),
      'the agent-reported failure is in the activity log',
    );
    const reports = await w.t.db
      .selectFrom('activity_log')
      .select('operation_name')
      .where('operation_name', 'like', '%/extensionStatus/action')
      .where('status', '=', 'Succeeded')
      .execute();
    assert.deepEqual(reports, [], 'accepted status reports are not logged twice');
  });

  void it('commits each write with one activity-log event; concurrent writes share a commit and a conflicting one fails alone', async () => {
    const names = ['batch-a', 'batch-b', 'batch-c', 'batch-d'];
    // Sent together: the changes share one transaction, and the second create of 'batch-dup'
    // (both found nothing before writing) fails alone when the batch is tried again one by one.
    const answers = await Promise.all([
      ...names.map((name) => w.put(name, CUSTOM_SCRIPT, w.admin, 'web-02')),
      w.put('batch-dup', CUSTOM_SCRIPT, w.admin, 'web-02'),
      w.put('batch-dup', CUSTOM_SCRIPT, w.admin, 'web-02'),
    ]);
    const statuses = answers.map((a) => a.status);
    assert.deepEqual(statuses.slice(0, 4), [201, 201, 201, 201], JSON.stringify(statuses));
    assert.deepEqual(
      statuses.slice(4).sort(),
      [201, 409],
      JSON.stringify(answers.map((a) => a.body)),
    );
    const eventsOf = async (name: string): Promise<string[]> =>
      (
        await w.t.db
          .selectFrom('activity_log')
          .select(['status', 'sub_status'])
          .where('resource_id', '=', w.extension(name, 'web-02').toLowerCase())
          .execute()
      )
        .map((e) => `${e.status} ${e.sub_status}`)
        .sort();
    for (const name of names) assert.deepEqual(await eventsOf(name), ['Succeeded 201'], name);
    assert.deepEqual(await eventsOf('batch-dup'), ['Failed Conflict', 'Succeeded 201']);
    const operations = await w.t.db
      .selectFrom('extension_operations')
      .select('extension_id')
      .where('extension_id', 'like', `${w.extension('batch-', 'web-02').toLowerCase()}%`)
      .execute();
    assert.equal(operations.length, 5, 'one operation per accepted write, none for the refused');
    const busy = await w.put('batch-a', CUSTOM_SCRIPT, w.admin, 'web-02');
    assert.equal(busy.status, 409, JSON.stringify(busy.body));
    assert.deepEqual(await eventsOf('batch-a'), ['Failed Conflict', 'Succeeded 201']);
  });

  void it('lists a machine’s extensions', async () => {
    for (const name of ['a1', 'a2', 'a3']) {
      assert.equal(
        (
          await w.put(name, {
            ...CUSTOM_SCRIPT,
            typeHandlerVersion: '2.0.0',
            autoUpgradeMinorVersion: false,
          })
        ).status,
        201,
      );
    }
    const list = await w.call('GET', `${w.machine()}/extensions?${V}`, { as: w.reader });
    assert.equal(list.status, 200, JSON.stringify(list.body));
    const names = (
      list.body['value'] as { name: string; properties: { typeHandlerVersion: string } }[]
    ).map((e) => e.name);
    assert.deepEqual(names, ['a1', 'a2', 'a3']);
    const goal = await w.goalState();
    const versions = (goal.body['extensions'] as GoalExtension[]).map((e) => e.version);
    assert.deepEqual(
      versions,
      ['2.0.0', '2.0.0', '2.0.0'],
      'autoUpgradeMinorVersion false is exact',
    );
  });

  void it('deletes a machine with its extensions, operations and goal state', async () => {
    const deleted = await w.call('DELETE', `${w.machine('web-02')}?${V}`, { as: w.admin });
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
    const machineId = w.machine('web-01').toLowerCase();
    const created = await w.put('gone', { ...CUSTOM_SCRIPT }, w.admin);
    assert.equal(created.status, 201);
    await w.call('DELETE', `${w.machine('web-01')}?${V}`, { as: w.admin });
    for (const table of [
      'machine_extensions',
      'extension_operations',
      'extension_goal_states',
    ] as const) {
      const rows = await w.t.db
        .selectFrom(table)
        .selectAll()
        .where('machine_id', '=', machineId)
        .execute();
      assert.deepEqual(rows, [], table);
    }
  });
});

void describe('extensions of a deleted resource group', () => {
  void it('go with its machines, so a machine made again under the name starts empty', async () => {
    const w = await ExtensionTestWorld.create();
    try {
      await w.publish(CUSTOM_SCRIPT.publisher, CUSTOM_SCRIPT.type, '2.1.0');
      assert.equal((await w.put('CustomScript', CUSTOM_SCRIPT)).status, 201);
      const owner = await w.t.addPrincipal();
      await w.t.assign(owner, OWNER_ROLE_ID, `/subscriptions/${w.sub}`);
      const deleted = await w.call(
        'DELETE',
        `/subscriptions/${w.sub}/resourcegroups/Fleet?api-version=2021-04-01`,
        { as: owner },
      );
      assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
      for (const table of [
        'machine_extensions',
        'extension_operations',
        'extension_goal_states',
      ] as const) {
        assert.deepEqual(await w.t.db.selectFrom(table).selectAll().execute(), [], table);
      }
    } finally {
      await w.close();
    }
  });
});
