// Automatic upgrade: a newer version in the same major version upgrades the extensions that ask
// for it, through the usual operation and goal state; nothing else changes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { upgradeAutomatically } from './automatic-upgrade.js';
import { extensionServicesOf } from './extension-target.js';
import { AGENT_V, CUSTOM_SCRIPT, ExtensionTestWorld } from './testing/extension-test-world.js';

interface GoalExtension {
  name: string;
  version: string;
  sequence: number;
  operation: { id: string; kind: string } | null;
}

void describe('automatic extension upgrade', () => {
  let w: ExtensionTestWorld;
  const upgrade = (version: string) =>
    upgradeAutomatically(extensionServicesOf(w.t.services), { ...CUSTOM_SCRIPT, version });
  const goal = async (machine = 'web-01'): Promise<GoalExtension[]> => {
    const answer = await w.goalState('', machine === 'web-01' ? w.machineA : w.machineB, machine);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return answer.body['extensions'] as GoalExtension[];
  };
  /** Reports the extension's pending operation done, as its agent would. */
  const complete = async (machine = 'web-01'): Promise<void> => {
    for (const extension of await goal(machine)) {
      if (extension.operation === null) continue;
      const answer = await w.call('POST', `${w.machine(machine)}/extensionStatus?${AGENT_V}`, {
        as: machine === 'web-01' ? w.machineA : w.machineB,
        body: {
          name: extension.name,
          operationId: extension.operation.id,
          sequence: extension.sequence,
          result: 'Succeeded',
        },
      });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
    }
  };

  before(async () => {
    w = await ExtensionTestWorld.create();
    await w.publish(CUSTOM_SCRIPT.publisher, CUSTOM_SCRIPT.type, '2.0.0');
    const auto = await w.put('Auto', {
      ...CUSTOM_SCRIPT,
      typeHandlerVersion: '2.0',
      enableAutomaticUpgrade: true,
    });
    assert.equal(auto.status, 201, JSON.stringify(auto.body));
    const manual = await w.put(
      'Manual',
      { ...CUSTOM_SCRIPT, typeHandlerVersion: '2.0' },
      w.admin,
      'web-02',
    );
    assert.equal(manual.status, 201, JSON.stringify(manual.body));
    await complete('web-01');
    await complete('web-02');
  });
  after(() => w.close());

  void it('upgrades to a newer minor version the extensions that enable it, and only those', async () => {
    await w.publish(CUSTOM_SCRIPT.publisher, CUSTOM_SCRIPT.type, '2.1.0');
    assert.deepEqual(await upgrade('2.1.0'), [w.extension('Auto').toLowerCase()]);
    const [auto] = await goal();
    assert.equal(auto?.version, '2.1.0');
    assert.equal(auto?.operation?.kind, 'upgrade');
    const [manual] = await goal('web-02');
    assert.equal(manual?.version, '2.0.0');
    assert.equal(manual?.operation, null);
    const resource = await w.call('GET', `${w.extension('Auto')}?api-version=2021-05-20`, {
      as: w.admin,
    });
    const properties = resource.body['properties'] as Record<string, unknown>;
    assert.equal(properties['provisioningState'], 'Updating');
  });

  void it('leaves an extension busy with another operation, and never crosses a major version', async () => {
    await w.publish(CUSTOM_SCRIPT.publisher, CUSTOM_SCRIPT.type, '2.2.0', '3.0.0');
    assert.deepEqual(await upgrade('2.2.0'), [], 'its 2.1.0 upgrade is still in progress');
    await complete();
    assert.deepEqual(await upgrade('3.0.0'), [], 'a new major version is an operator decision');
    assert.deepEqual(await upgrade('2.0.5'), [], 'not newer than what it runs');
    assert.deepEqual(await upgrade('2.2.0'), [w.extension('Auto').toLowerCase()]);
  });
});
