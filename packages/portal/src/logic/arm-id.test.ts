import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { machineId, machinePath, machineRefFromPath, parseMachineId } from './arm-id.js';

void describe('machine ids and portal paths', () => {
  const id =
    '/subscriptions/0b3c/resourceGroups/Web%20Tier/providers/Microsoft.HybridCompute/machines/db-01';
  void it('round-trips a machine id through its portal path', () => {
    const ref = parseMachineId(id);
    assert.deepEqual(ref, { subscriptionId: '0b3c', resourceGroup: 'Web Tier', name: 'db-01' });
    assert.equal(machinePath(ref), '/machines/0b3c/Web%20Tier/db-01');
    assert.deepEqual(machineRefFromPath(machinePath(ref)), ref);
    assert.equal(machineId(ref), id);
  });

  void it('refuses ids and paths of other things', () => {
    assert.equal(parseMachineId('/subscriptions/0b3c/resourceGroups/web'), undefined);
    assert.equal(machineRefFromPath('/machines'), undefined);
  });
});
