// The reconciler with a stand-in handler host over real localconfig.json files: the server's
// policy decides first (S8, S9, S11), a refusal is reported with the local reason and changes
// nothing, protected settings are opened with the machine key and never appear in a log line.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { sealProtectedSettings } from '@tether/protocol/protected-settings';
import { loadLocalConfig } from '../../config/local-config-file.js';
import { generateMachineKey, type MachineKey } from '../../identity/machine-key.js';
import { findRetiredKey, retireMachineKey } from '../../identity/retired-keys.js';
import { makeTempRoot, type TempRoot } from '../../test-support/temp-root.js';
import type { InstalledExtension } from '../extension-host.js';
import type { GoalState, GoalStateExtension } from './goal-state.js';
import { decisionOperation, Reconciler } from './reconciler.js';
import type { StatusReport } from './status-report.js';
import { FakeExtensionHost } from './testing/fake-extension-host.js';

const NOW = Date.parse('2030-01-01T00:00:00Z');
const CUSTOM_SCRIPT = 'Microsoft.Azure.Extensions/CustomScript';
const MONITOR = 'Microsoft.Azure.Monitor/AzureMonitorLinuxAgent';

let temp: TempRoot;
let host: FakeExtensionHost;
let reports: StatusReport[];
let logs: string[];
let machineKey: MachineKey;

beforeEach(() => {
  temp = makeTempRoot();
  host = new FakeExtensionHost();
  reports = [];
  logs = [];
  machineKey = generateMachineKey();
});
afterEach(() => temp.remove());

function makeReconciler(): Reconciler {
  return new Reconciler({
    host,
    loadConfig: () => loadLocalConfig(temp.paths, { trustedOwnerUid: process.getuid?.() ?? 0 }),
    credential: { currentKey: () => machineKey },
    retiredKey: (keyId) => findRetiredKey(temp.paths, keyId),
    fetchPackage: () => Promise.reject(new Error('the fake host does not download')),
    report: (report) => reports.push(report),
    clock: { now: () => NOW },
    log: (line) => logs.push(line),
  });
}

async function reconcile(
  extensions: readonly GoalStateExtension[],
  config?: Record<string, unknown>,
): Promise<Reconciler> {
  if (config !== undefined) temp.writeConfig(JSON.stringify(config));
  const reconciler = makeReconciler();
  reconciler.update({ generation: 1, extensions });
  await reconciler.idle();
  return reconciler;
}

function extension(
  name: string,
  fullType: string,
  overrides: Partial<GoalStateExtension> = {},
): GoalStateExtension {
  const [publisher = '', type = ''] = fullType.split('/');
  return {
    name,
    publisher,
    type,
    version: '2.1.0',
    sequence: 1,
    settings: { commandToExecute: 'echo hello' },
    protectedSettings: null,
    state: 'enabled',
    operation: { id: `op-${name}`, kind: 'install' },
    ...overrides,
  };
}

function installed(name: string, fullType: string, extra: Partial<InstalledExtension> = {}): void {
  const [publisher = '', type = ''] = fullType.split('/');
  host.records.set(name, {
    name,
    publisher,
    type,
    version: '2.1.0',
    sequence: 1,
    state: 'enabled',
    status: { code: '0', level: 'Info', displayStatus: 'ok', message: 'ok', time: 'x' },
    installedAt: 'x',
    updatedAt: 'x',
    ...extra,
  });
}

function only(list: StatusReport[]): StatusReport {
  assert.equal(list.length, 1, JSON.stringify(list));
  return list[0] as StatusReport;
}

void describe('Reconciler: the local policy first', () => {
  void test('an allowlist without CustomScript refuses its install with the local reason', async () => {
    await reconcile([extension('CustomScript', CUSTOM_SCRIPT)], {
      'extensions.allowlist': [MONITOR],
    });
    assert.deepEqual(host.callNames(), []);
    const report = only(reports);
    assert.equal(report.operationId, 'op-CustomScript');
    assert.equal(report.result, 'Failed');
    assert.equal(report.error?.code, 'ERR_EXTENSION_NOT_ALLOWED');
    assert.match(report.error?.message ?? '', /cannot be installed: a local allowlist is set/);
    assert.match(report.error?.message ?? '', /sudo azcmagent config set extensions.allowlist/);
    assert.equal(report.instanceView.status.level, 'Error');
    assert.equal(report.instanceView.status.message, report.error?.message);
  });

  void test('the blocklist wins over the allowlist', async () => {
    await reconcile([extension('Monitor', MONITOR)], {
      'extensions.allowlist': [MONITOR],
      'extensions.blocklist': [MONITOR],
    });
    assert.deepEqual(host.callNames(), []);
    assert.equal(only(reports).error?.code, 'ERR_EXTENSION_BLOCKED');
  });

  void test('Allow/None refuses every install, update and upgrade', async () => {
    installed('Monitor', MONITOR, { version: '1.0' });
    installed('Script', CUSTOM_SCRIPT, { sequence: 1 });
    await reconcile(
      [
        extension('Inventory', 'Contoso.Tools/Inventory'),
        extension('Monitor', MONITOR, { operation: { id: 'up', kind: 'upgrade' } }),
        extension('Script', CUSTOM_SCRIPT, {
          sequence: 2,
          operation: { id: 'upd', kind: 'update' },
        }),
      ],
      { 'extensions.allowlist': ['Allow/None'] },
    );
    assert.deepEqual(host.callNames(), []);
    assert.deepEqual(
      reports.map((report) => [report.operationId, report.result, report.error?.code]),
      [
        ['op-Inventory', 'Failed', 'ERR_EXTENSION_NOT_ALLOWED'],
        ['up', 'Failed', 'ERR_EXTENSION_NOT_ALLOWED'],
        ['upd', 'Failed', 'ERR_EXTENSION_NOT_ALLOWED'],
      ],
    );
    assert.match(
      reports[1]?.error?.message ?? '',
      /cannot be upgraded: the local allowlist is Allow\/None/,
    );
    assert.match(reports[2]?.error?.message ?? '', /cannot be updated/);
    // A refused update leaves the running version in the instance view.
    assert.equal(reports[1]?.instanceView.typeHandlerVersion, '1.0');
  });

  void test('removal is carried out whatever the lists say', async () => {
    installed('Script', CUSTOM_SCRIPT);
    installed('Monitor', MONITOR);
    await reconcile(
      [
        extension('Script', CUSTOM_SCRIPT, {
          state: 'removed',
          operation: { id: 'rm1', kind: 'remove' },
        }),
        extension('Monitor', MONITOR, {
          state: 'removed',
          operation: { id: 'rm2', kind: 'remove' },
        }),
      ],
      { 'extensions.allowlist': ['Allow/None'], 'extensions.blocklist': [CUSTOM_SCRIPT] },
    );
    assert.deepEqual(host.callNames(), ['remove:Script', 'remove:Monitor']);
    assert.deepEqual(
      reports.map((report) => [report.operationId, report.result]),
      [
        ['rm1', 'Succeeded'],
        ['rm2', 'Succeeded'],
      ],
    );
  });

  void test('with extensions.enabled false nothing runs, removal included', async () => {
    installed('Script', CUSTOM_SCRIPT);
    await reconcile(
      [
        extension('Monitor', MONITOR),
        extension('Script', CUSTOM_SCRIPT, {
          state: 'removed',
          operation: { id: 'rm', kind: 'remove' },
        }),
      ],
      { 'extensions.enabled': false },
    );
    assert.deepEqual(host.callNames(), []);
    assert.deepEqual(
      reports.map((report) => [report.operationId, report.error?.code]),
      [
        ['op-Monitor', 'ERR_EXTENSIONS_DISABLED'],
        ['rm', 'ERR_EXTENSIONS_DISABLED'],
      ],
    );
    assert.match(reports[0]?.error?.message ?? '', /extensions.enabled is false/);
  });

  void test('a damaged localconfig.json refuses installs (fail closed) but not removal', async () => {
    installed('Script', CUSTOM_SCRIPT);
    temp.writeConfig('{"extensions.allowlist": ');
    await reconcile([
      extension('Monitor', MONITOR),
      extension('Script', CUSTOM_SCRIPT, {
        state: 'removed',
        operation: { id: 'rm', kind: 'remove' },
      }),
    ]);
    assert.deepEqual(host.callNames(), ['remove:Script']);
    assert.equal(reports[0]?.error?.code, 'ERR_CONFIG_CORRUPT');
    assert.equal(reports[1]?.result, 'Succeeded');
  });

  void test('an allowed install is applied and its outcome reported with operation and sequence', async () => {
    await reconcile([extension('Monitor', MONITOR, { sequence: 4 })], {
      'extensions.allowlist': [MONITOR],
    });
    assert.deepEqual(host.callNames(), ['apply:Monitor']);
    const report = only(reports);
    assert.deepEqual(
      { ...report, instanceView: { ...report.instanceView, status: undefined } },
      {
        name: 'Monitor',
        operationId: 'op-Monitor',
        sequence: 4,
        result: 'Succeeded',
        instanceView: {
          name: 'Monitor',
          type: 'AzureMonitorLinuxAgent',
          typeHandlerVersion: '2.1.0',
          status: undefined,
        },
      },
    );
    assert.equal(report.instanceView.status.displayStatus, 'Enable succeeded');
  });

  void test('a handler failure is reported as the host describes it', async () => {
    host.applyResult = 'Failed';
    await reconcile([extension('Monitor', MONITOR)]);
    const report = only(reports);
    assert.equal(report.result, 'Failed');
    assert.deepEqual(report.error, { code: 'ERR_HANDLER_FAILED', message: 'enable exited with 1' });
  });

  void test('a blocklist set while the operation waits for the host refuses it there', async () => {
    let release = (): void => undefined;
    host.gate = new Promise((resolve) => (release = resolve));
    const reconciler = makeReconciler();
    reconciler.update({ generation: 1, extensions: [extension('Script', CUSTOM_SCRIPT)] });
    await new Promise((resolve) => setImmediate(resolve));
    temp.writeConfig(JSON.stringify({ 'extensions.blocklist': [CUSTOM_SCRIPT] }));
    release();
    await reconciler.idle();
    assert.deepEqual(host.installed(), []);
    const report = only(reports);
    assert.equal(report.result, 'Failed');
    assert.equal(report.error?.code, 'ERR_EXTENSION_BLOCKED');
    assert.match(report.error?.message ?? '', /cannot be installed: it is in the local blocklist/);
  });
});

void describe('Reconciler: protected settings', () => {
  const SECRET = 'hunter2-very-secret-value';

  void test('are opened with the machine key for the handler and appear in no log line or report', async () => {
    const sealed = await sealProtectedSettings({ password: SECRET }, machineKey.clientPublicKey);
    await reconcile([extension('Script', CUSTOM_SCRIPT, { protectedSettings: sealed })]);
    const apply = host.calls[0];
    assert.equal(apply?.call, 'apply');
    assert.deepEqual(apply.call === 'apply' && apply.desired.protectedSettings, {
      password: SECRET,
    });
    assert.equal(only(reports).result, 'Succeeded');
    assert.ok(logs.length > 0);
    for (const line of logs) assert.ok(!line.includes(SECRET), line);
    assert.ok(!JSON.stringify(reports).includes(SECRET));
  });

  void test('sealed to another key: ERR_PROTECTED_SETTINGS telling the operator to PUT again', async () => {
    const sealed = await sealProtectedSettings(
      { password: SECRET },
      generateMachineKey().clientPublicKey,
    );
    await reconcile([extension('Script', CUSTOM_SCRIPT, { protectedSettings: sealed })]);
    assert.deepEqual(host.callNames(), []);
    const report = only(reports);
    assert.equal(report.error?.code, 'ERR_PROTECTED_SETTINGS');
    assert.match(report.error?.message ?? '', /PUT the extension Script again/);
    assert.ok(report.error?.message.includes(sealed.keyId));
    for (const line of logs) assert.ok(!line.includes(SECRET), line);
  });

  void test('sealed before a credential renewal: opened with the retired key', async () => {
    const before = generateMachineKey();
    retireMachineKey(temp.paths, before, {
      uid: process.getuid?.() ?? 0,
      gid: process.getgid?.() ?? 0,
    });
    const sealed = await sealProtectedSettings({ password: SECRET }, before.clientPublicKey);
    await reconcile([extension('Script', CUSTOM_SCRIPT, { protectedSettings: sealed })]);
    const apply = host.calls[0];
    assert.deepEqual(apply?.call === 'apply' && apply.desired.protectedSettings, {
      password: SECRET,
    });
    assert.equal(only(reports).result, 'Succeeded');
  });

  void test('a damaged seal with the right key id: ERR_PROTECTED_SETTINGS, nothing applied', async () => {
    const sealed = await sealProtectedSettings({ password: SECRET }, machineKey.clientPublicKey);
    const broken = { ...sealed, jwe: `${sealed.jwe.slice(0, -4)}AAAA` };
    await reconcile([extension('Script', CUSTOM_SCRIPT, { protectedSettings: broken })]);
    assert.deepEqual(host.callNames(), []);
    assert.equal(only(reports).error?.code, 'ERR_PROTECTED_SETTINGS');
  });

  void test('are not opened when the policy refuses', async () => {
    let opened = 0;
    const sealed = await sealProtectedSettings({ password: SECRET }, machineKey.clientPublicKey);
    temp.writeConfig(JSON.stringify({ 'extensions.blocklist': [CUSTOM_SCRIPT] }));
    const reconciler = new Reconciler({
      host,
      loadConfig: () => loadLocalConfig(temp.paths, { trustedOwnerUid: process.getuid?.() ?? 0 }),
      credential: {
        currentKey: () => {
          opened += 1;
          return machineKey;
        },
      },
      fetchPackage: () => Promise.reject(new Error('unused')),
      report: (report) => reports.push(report),
      clock: { now: () => NOW },
      log: (line) => logs.push(line),
    });
    reconciler.update({
      generation: 1,
      extensions: [extension('Script', CUSTOM_SCRIPT, { protectedSettings: sealed })],
    });
    await reconciler.idle();
    assert.equal(opened, 0);
    assert.equal(only(reports).error?.code, 'ERR_EXTENSION_BLOCKED');
  });
});

void describe('Reconciler: order, repetition and local removal', () => {
  void test('operations run one at a time in goal-state order, each once', async () => {
    let release = (): void => undefined;
    host.gate = new Promise((resolve) => (release = resolve));
    const reconciler = makeReconciler();
    const state: GoalState = {
      generation: 1,
      extensions: [extension('B', MONITOR), extension('A', 'Contoso.Tools/Inventory')],
    };
    reconciler.update(state);
    reconciler.update({ ...state, generation: 2 });
    await new Promise((resolve) => setImmediate(resolve));
    release();
    await reconciler.idle();
    assert.equal(host.maxActive, 1);
    assert.deepEqual(host.callNames(), ['apply:B', 'apply:A']);
    reconciler.update({ ...state, generation: 3 });
    await reconciler.idle();
    assert.deepEqual(host.callNames(), ['apply:B', 'apply:A']);
    assert.equal(reports.length, 2);
  });

  void test('a locally removed extension is not reinstalled; its removal is reported, then forgotten', async () => {
    installed('Script', CUSTOM_SCRIPT, { sequence: 3, removedLocallyAt: '2030-01-01T00:00:00Z' });
    await reconcile([extension('Script', CUSTOM_SCRIPT, { sequence: 3, operation: null })]);
    assert.deepEqual(host.callNames(), ['forget:Script']);
    const report = only(reports);
    assert.equal(report.operationId, null);
    assert.equal(report.result, 'Failed');
    assert.equal(report.error?.code, 'ERR_REMOVED_LOCALLY');
    assert.match(report.error?.message ?? '', /removed on the server by a local administrator/);
  });

  void test('an operation for the sequence removed locally completes as ERR_REMOVED_LOCALLY', async () => {
    installed('Script', CUSTOM_SCRIPT, { sequence: 3, removedLocallyAt: '2030-01-01T00:00:00Z' });
    await reconcile([
      extension('Script', CUSTOM_SCRIPT, { sequence: 3, operation: { id: 'op', kind: 'update' } }),
    ]);
    assert.deepEqual(host.callNames(), ['forget:Script']);
    assert.equal(only(reports).operationId, 'op');
    assert.equal(only(reports).error?.code, 'ERR_REMOVED_LOCALLY');
  });

  void test('a newer request after a local removal installs again', async () => {
    installed('Script', CUSTOM_SCRIPT, { sequence: 3, removedLocallyAt: '2030-01-01T00:00:00Z' });
    await reconcile([
      extension('Script', CUSTOM_SCRIPT, { sequence: 4, operation: { id: 'op', kind: 'update' } }),
    ]);
    assert.deepEqual(host.callNames(), ['apply:Script']);
    assert.equal(only(reports).result, 'Succeeded');
  });

  void test('without an operation nothing changes, even when the goal state is ahead', async () => {
    // A refused or expired update leaves sequence 2 listed as Failed: the server keeps running 1.
    installed('Monitor', MONITOR, { version: '1.0', sequence: 1 });
    installed('Orphan', 'Contoso.Tools/Inventory');
    const reconciler = await reconcile([
      extension('Monitor', MONITOR, { sequence: 2, operation: null }),
    ]);
    reconciler.reevaluate();
    await reconciler.idle();
    assert.deepEqual(host.callNames(), []);
    assert.deepEqual(reports, []);
    assert.equal(
      logs.filter((line) => line.includes('Orphan') && line.includes('left in place')).length,
      2,
    );
  });

  void test('maps operation kinds to the decision for what is installed', () => {
    const local = { version: '1.0' } as InstalledExtension;
    const cases: [Parameters<typeof decisionOperation>, string][] = [
      [['install', { version: '1.0' }, undefined], 'install'],
      [['update', { version: '1.0' }, undefined], 'install'],
      [['install', { version: '1.0' }, local], 'update'],
      [['update', { version: '1.0' }, local], 'update'],
      [['update', { version: '2.0' }, local], 'upgrade'],
      [['upgrade', { version: '1.1' }, local], 'upgrade'],
      [['remove', { version: '1.0' }, local], 'remove'],
      [['install', { version: '1.0' }, { ...local, removedLocallyAt: 'x' }], 'install'],
    ];
    for (const [args, expected] of cases) assert.equal(decisionOperation(...args), expected);
  });
});
