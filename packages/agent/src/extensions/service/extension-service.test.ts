// The service wired together with a stand-in control plane and handler host over a real
// localconfig.json: S11 — extensions.enabled false stops hosted processes and refuses
// operations, true again restarts them and re-reconciles; file changes are noticed; stop is clean.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { generateMachineKey } from '../../identity/machine-key.js';
import { makeTempRoot, type TempRoot } from '../../test-support/temp-root.js';
import { ExtensionService } from './extension-service.js';
import type { GoalStateExtension } from './goal-state.js';
import { FakeExtensionApi } from './testing/fake-extension-api.js';
import { FakeExtensionHost } from './testing/fake-extension-host.js';
import { ManualScheduler, seeded, until } from './testing/manual-scheduler.js';

const MONITOR: Omit<GoalStateExtension, 'operation' | 'sequence'> = {
  name: 'Monitor',
  publisher: 'Microsoft.Azure.Monitor',
  type: 'AzureMonitorLinuxAgent',
  version: '1.2',
  settings: {},
  protectedSettings: null,
  state: 'enabled',
};

let temp: TempRoot;
let api: FakeExtensionApi;
let host: FakeExtensionHost;
let scheduler: ManualScheduler;
let logs: string[];
let statuses: [string, string | undefined][];
let ready: number;
let service: ExtensionService;

beforeEach(() => {
  temp = makeTempRoot();
  temp.writeConfig('{}');
  api = new FakeExtensionApi();
  host = new FakeExtensionHost();
  scheduler = new ManualScheduler();
  logs = [];
  statuses = [];
  ready = 0;
  const key = generateMachineKey();
  service = new ExtensionService({
    paths: temp.paths,
    host,
    api,
    credential: { currentKey: () => key },
    clock: scheduler,
    scheduler,
    random: seeded(5),
    log: (line) => logs.push(line),
    configOwnerUid: process.getuid?.() ?? 0,
    onReady: () => (ready += 1),
    writeStatus: (status, error) => statuses.push([status, error]),
  });
});
afterEach(async () => {
  await service.stop();
  temp.remove();
});

/** Runs the scheduled poll and answers it with these extensions. */
async function deliver(generation: number, extensions: GoalStateExtension[]): Promise<void> {
  scheduler.runNext(0);
  api.answer({ generation, extensions });
  await until('the next poll to be scheduled', () => scheduler.delays().includes(0));
  await service.settled();
}

async function configChange(config: string): Promise<void> {
  temp.writeConfig(config);
  service.configChanged();
  await service.settled();
}

void describe('ExtensionService', () => {
  void test('starts hosted processes when enabled and is ready after the first poll', async () => {
    service.start();
    assert.deepEqual(host.callNames(), ['startHosted']);
    assert.equal(ready, 0);
    assert.deepEqual(statuses, [['running', undefined]]);
    scheduler.runNext(0);
    api.fail('connect ECONNREFUSED');
    await until('ready', () => ready === 1);
    assert.deepEqual(statuses.at(-1), ['running', 'connect ECONNREFUSED']);
  });

  void test('extensions.enabled false stops hosted processes and refuses operations; true restarts them', async () => {
    service.start();
    await deliver(1, [{ ...MONITOR, sequence: 1, operation: { id: 'op1', kind: 'install' } }]);
    assert.deepEqual(host.callNames(), ['startHosted', 'apply:Monitor']);

    await configChange(JSON.stringify({ 'extensions.enabled': false }));
    assert.equal(host.hostedRunning, false);
    assert.deepEqual(host.callNames().slice(2), ['stopHosted']);
    assert.ok(logs.some((line) => line.includes('extension management is off')));

    await deliver(2, [{ ...MONITOR, sequence: 2, operation: { id: 'op2', kind: 'update' } }]);
    assert.deepEqual(host.callNames().slice(3), []);
    const refused = api.reports.at(-1);
    assert.equal(refused?.operationId, 'op2');
    assert.equal(refused?.error?.code, 'ERR_EXTENSIONS_DISABLED');
    assert.match(refused?.error?.message ?? '', /extensions.enabled is false/);

    // op2 failed and stays failed: re-enabling starts hosted processes and changes nothing else.
    await deliver(3, [{ ...MONITOR, sequence: 2, operation: null }]);
    await configChange(JSON.stringify({ 'extensions.enabled': true }));
    assert.deepEqual(host.callNames().slice(3), ['startHosted']);
    assert.equal(host.hostedRunning, true);

    // The operator asks again: carried out.
    await deliver(4, [{ ...MONITOR, sequence: 3, operation: { id: 'op3', kind: 'update' } }]);
    assert.deepEqual(host.callNames().slice(4), ['apply:Monitor']);
    assert.equal(api.reports.at(-1)?.operationId, 'op3');
    assert.equal(api.reports.at(-1)?.result, 'Succeeded');
  });

  void test('does not start hosted processes when disabled at start-up', () => {
    temp.writeConfig(JSON.stringify({ 'extensions.enabled': false }));
    service.start();
    assert.deepEqual(host.callNames(), []);
    assert.ok(logs.some((line) => /off: extensions.enabled is false/.test(line)));
  });

  void test('a damaged localconfig.json stops hosted processes (fail closed)', async () => {
    service.start();
    await configChange('{"extensions.enabled": tru');
    assert.deepEqual(host.callNames(), ['startHosted', 'stopHosted']);
    assert.ok(logs.some((line) => line.includes('cannot be used')));
  });

  void test('notices a change to localconfig.json on disk', async () => {
    service.start();
    writeFileSync(temp.paths.localConfig, JSON.stringify({ 'extensions.enabled': false }));
    await until('the change to be noticed', () => scheduler.delays().includes(300));
    scheduler.runNext(300);
    await service.settled();
    assert.equal(host.hostedRunning, false);
  });

  void test('a local removal is reported as soon as the state file changes', async () => {
    service.start();
    await deliver(1, [{ ...MONITOR, sequence: 1, operation: { id: 'op1', kind: 'install' } }]);
    await deliver(2, [{ ...MONITOR, sequence: 1, operation: null }]);
    const record = host.records.get('Monitor');
    assert.ok(record !== undefined);
    host.records.set('Monitor', { ...record, removedLocallyAt: '2030-01-01T00:00:00Z' });
    writeFileSync(temp.paths.extensionStateFile, '{}');
    await until('the change to be noticed', () => scheduler.delays().includes(300));
    scheduler.runNext(300);
    await service.settled();
    const report = api.reports.at(-1);
    assert.equal(report?.error?.code, 'ERR_REMOVED_LOCALLY');
    assert.equal(report?.operationId, null);
    assert.deepEqual(host.callNames().slice(-1), ['forget:Monitor']);
  });

  void test('stop aborts the poll, stops hosted processes and records stopped', async () => {
    service.start();
    scheduler.runNext(0);
    assert.ok(api.polling);
    await service.stop();
    assert.equal(api.aborted, 1);
    assert.deepEqual(host.callNames(), ['startHosted', 'stopHosted']);
    assert.deepEqual(statuses.at(-1), ['stopped', undefined]);
    assert.equal(scheduler.pending.length, 0);
  });
});
