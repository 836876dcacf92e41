// The guest configuration service loop against a fake control plane and a manual clock: a new
// assignment is evaluated and reported, a trigger re-evaluates, the local switch stops all
// downloads and evaluations and says why, reports made while disconnected survive a restart and
// are sent on reconnect, 14 days without contact stop evaluation, and a package that does not
// verify is that assignment's failure with nothing of it kept.
import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { GuestConfigurationGoalAssignment } from '@tether/protocol';
import { publisherKeys, trust } from '../../extensions/host/testing/test-fixtures.js';
import { ManualScheduler, seeded } from '../../extensions/service/testing/manual-scheduler.js';
import { makeTempRoot, type TempRoot } from '../../test-support/temp-root.js';
import {
  GuestConfigurationService,
  OFFLINE_LIMIT_MS,
  type GcServiceStatus,
} from './guest-configuration-service.js';
import { engineRunner } from './run-configuration.js';
import {
  FakeGuestConfigurationApi,
  signedConfiguration,
} from './testing/fake-guest-configuration-api.js';

const PUBLISHER = 'Contoso.Security';
const FREQUENCY_MS = 15 * 60_000;
const keys = publisherKeys();
const stranger = publisherKeys();
const CONFIGURATION = {
  name: 'MotdPresent',
  version: '1.0.0',
  rules: [
    { id: 'motd', title: '/etc/motd exists', kind: 'file', path: '/etc/motd', present: true },
  ],
};

/** A remediable rule: sshd_config no more open than 0600. */
const SSHD_MODE = {
  ...CONFIGURATION,
  rules: [
    {
      id: '5.2.1',
      title: 'sshd_config',
      kind: 'file',
      path: '/etc/ssh/sshd_config',
      maxMode: '0600',
    },
  ],
};

let temp: TempRoot;
let api: FakeGuestConfigurationApi;
let scheduler: ManualScheduler;
let logs: string[];
let statuses: GcServiceStatus[];
let services: GuestConfigurationService[];

beforeEach(() => {
  temp = makeTempRoot();
  temp.writeConfig('{}');
  trust(temp.paths, PUBLISHER, keys);
  api = new FakeGuestConfigurationApi();
  scheduler = new ManualScheduler();
  logs = [];
  statuses = [];
  services = [];
});

afterEach(async () => {
  for (const service of services) await service.stop();
  temp.remove();
});

/** An sshd_config of mode 0644 under the test root; answers its path. */
function sshdConfig(): string {
  mkdirSync(join(temp.root, 'etc/ssh'), { recursive: true });
  const file = join(temp.root, 'etc/ssh/sshd_config');
  writeFileSync(file, 'PermitRootLogin no\n');
  chmodSync(file, 0o644);
  return file;
}

function motd(present: boolean): void {
  const file = join(temp.root, 'etc/motd');
  if (present) {
    mkdirSync(join(temp.root, 'etc'), { recursive: true });
    writeFileSync(file, 'hello\n');
  } else rmSync(file, { force: true });
}

function startService(): GuestConfigurationService {
  const service = new GuestConfigurationService({
    paths: temp.paths,
    api,
    clock: scheduler,
    scheduler,
    random: seeded(7),
    log: (line) => logs.push(line),
    configOwnerUid: process.geteuid?.() ?? 0,
    evaluator: { trustedKeys: () => [keys.publicKey], run: engineRunner(temp.root) },
    writeStatus: (status) => statuses.push(status),
  });
  services.push(service);
  service.start();
  return service;
}

async function published(
  signer = keys.privateKey,
  overrides: Partial<GuestConfigurationGoalAssignment> = {},
  configuration: { name: string; version: string; rules: readonly object[] } = CONFIGURATION,
): Promise<GuestConfigurationGoalAssignment> {
  const pkg = await signedConfiguration(configuration, PUBLISHER, signer);
  const contentUri = `/providers/Tether.Extensions/publishers/${PUBLISHER}/types/MotdPresent/versions/1.0.0`;
  api.packages.set(contentUri, pkg);
  return {
    name: 'motd-audit',
    configurationName: 'MotdPresent',
    version: '1.0.0',
    publisher: PUBLISHER,
    contentUri,
    contentHash: pkg.contentHash,
    assignmentType: 'Audit',
    parameters: [],
    frequencyMinutes: 15,
    evaluationRequest: 0,
    ...overrides,
  };
}

/** Runs what is due up to `ms` from now, letting each task's work finish. */
async function advance(service: GuestConfigurationService, ms: number): Promise<void> {
  const end = scheduler.time + ms;
  for (;;) {
    const next = [...scheduler.pending].sort((a, b) => a.dueAt - b.dueAt)[0];
    if (next === undefined || next.dueAt > end) break;
    scheduler.runNext();
    await settle(service);
  }
  scheduler.time = end;
}

async function settle(service: GuestConfigurationService): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  await service.settled();
  await new Promise((resolve) => setImmediate(resolve));
  await service.settled();
}

async function answer(
  service: GuestConfigurationService,
  generation: number,
  assignments: GuestConfigurationGoalAssignment[],
): Promise<void> {
  if (!api.polling) await advance(service, 0);
  api.answer({ generation, assignments });
  await settle(service);
}

void describe('GuestConfigurationService', () => {
  void test('a new assignment is downloaded, evaluated and reported; a trigger and the schedule re-evaluate', async () => {
    motd(true);
    const service = startService();
    const assignment = await published();
    await answer(service, 1, [assignment]);

    assert.equal(api.reports.length, 1);
    const first = api.reports[0];
    assert.equal(first?.assignmentName, 'motd-audit');
    assert.equal(first?.operationType, 'Initial');
    assert.equal(first?.complianceStatus, 'Compliant');
    assert.deepEqual(
      first?.resources.map((r) => [r.resourceId, r.complianceStatus]),
      [['motd', 'Compliant']],
    );

    motd(false);
    await answer(service, 2, [{ ...assignment, evaluationRequest: 1 }]);
    assert.equal(api.reports.length, 2, 'the trigger evaluates at once');
    const second = api.reports[1];
    assert.equal(second?.operationType, 'Consistency');
    assert.equal(second?.evaluationRequest, 1);
    assert.equal(second?.complianceStatus, 'NonCompliant');
    assert.notEqual(second?.reportId, first?.reportId);

    await advance(service, FREQUENCY_MS - 1);
    assert.equal(api.reports.length, 2, 'nothing before the frequency is up');
    await advance(service, 1);
    assert.equal(api.reports.length, 3, 'evaluated again after frequencyMinutes');
    assert.equal(api.downloads.length, 1, 'the package is downloaded once and kept');
  });

  for (const [setting, config] of [
    ['guestconfiguration.enabled', { 'guestconfiguration.enabled': false }],
    ['config.mode', { 'config.mode': 'monitor' }],
  ] as const) {
    void test(`${setting} turning guest configuration off: nothing downloaded or evaluated, the reason uploaded; on again resumes`, async () => {
      temp.writeConfig(JSON.stringify(config));
      motd(true);
      const service = startService();
      await answer(service, 1, [await published()]);

      assert.equal(api.downloads.length, 0);
      assert.equal(api.reports.length, 0);
      const notice = api.uploads.at(-1);
      assert.deepEqual(notice?.reports, []);
      assert.match(notice?.disabledReason ?? '', new RegExp(setting.replace('.', '\\.')));
      assert.match(notice?.disabledReason ?? '', /sudo azcmagent config set/);
      assert.match(statuses.at(-1)?.detail ?? '', new RegExp(setting.replace('.', '\\.')));
      assert.ok(logs.some((line) => line.includes(setting)));

      temp.writeConfig('{}');
      service.runCycle();
      await settle(service);
      assert.equal(api.reports.length, 1);
      assert.equal(statuses.at(-1)?.detail, undefined);
    });
  }

  void test('an unusable localconfig.json keeps guest configuration off (fail closed)', async () => {
    temp.writeConfig('{ not json');
    const service = startService();
    await answer(service, 1, [await published()]);
    assert.equal(api.downloads.length, 0);
    assert.match(api.uploads.at(-1)?.disabledReason ?? '', /cannot be used/);
  });

  void test('disconnected: keeps evaluating from the cache, queues on disk across a restart, sends everything on reconnect', async () => {
    motd(true);
    const first = startService();
    await answer(first, 1, [await published()]);
    assert.equal(api.reports.length, 1);

    api.unreachable = 'connect ECONNREFUSED';
    await advance(first, 0);
    api.fail('connect ECONNREFUSED');
    motd(false);
    await advance(first, FREQUENCY_MS);
    motd(true);
    await advance(first, FREQUENCY_MS);
    await first.stop();
    assert.equal(api.reports.length, 1, 'nothing reached the control plane');
    assert.equal(readdirSync(temp.paths.guestConfigOutboxDir).length, 2);

    // A restart without contact: the cached goal state and package are evaluated again.
    const second = startService();
    await settle(second);
    await advance(second, 60_000);
    // Evaluated again at start; it repeats the last queued result, which it replaces.
    assert.equal(second.queued, 2);

    api.unreachable = undefined;
    if (!api.polling) await advance(second, 5 * 60_000);
    api.answer({ generation: 1, assignments: [await published()] });
    await settle(second);
    const sent = api.reports.slice(1);
    assert.deepEqual(
      sent.map((r) => r.complianceStatus),
      ['NonCompliant', 'Compliant'],
    );
    assert.ok(sent.every((r) => r.operationType === 'Consistency'));
    assert.equal(readdirSync(temp.paths.guestConfigOutboxDir).length, 0);
    assert.equal(api.downloads.length, 1);
  });

  void test('after 14 days without contact evaluation stops, saying why, and resumes on contact', async () => {
    motd(true);
    const service = startService();
    await answer(service, 1, [await published()]);
    api.unreachable = 'connect ECONNREFUSED';
    await advance(service, 0);
    api.fail('connect ECONNREFUSED');
    scheduler.time += OFFLINE_LIMIT_MS;
    service.runCycle();
    await settle(service);
    const queued = service.queued;
    await advance(service, 2 * FREQUENCY_MS);
    assert.equal(service.queued, queued, 'no evaluation after 14 days');
    assert.match(statuses.at(-1)?.detail ?? '', /14 days/);
    assert.ok(logs.some((line) => /evaluation stopped/.test(line)));

    api.unreachable = undefined;
    if (!api.polling) await advance(service, 5 * 60_000);
    api.answer({ generation: 1, assignments: [await published()] });
    await settle(service);
    assert.equal(statuses.at(-1)?.detail, undefined);
    assert.equal(service.queued, 0);
    assert.ok(api.reports.length >= 2);
  });

  for (const [what, make] of [
    [
      'a package whose hash is not the assigned one',
      async () => ({ ...(await published()), contentHash: 'a'.repeat(64) }),
    ],
    ['a package signed by an untrusted key', () => published(stranger.privateKey)],
  ] as const) {
    void test(`${what} is reported as that assignment's failure and nothing of it is kept`, async () => {
      const service = startService();
      await answer(service, 1, [await make()]);
      const report = api.reports[0];
      assert.equal(report?.complianceStatus, 'NonCompliant');
      assert.equal(report?.resources[0]?.reasons[0]?.code, 'ERR_PACKAGE_SIGNATURE');
      assert.deepEqual(
        existsSync(temp.paths.guestConfigPackagesDir)
          ? readdirSync(temp.paths.guestConfigPackagesDir)
          : [],
        [],
      );
    });
  }

  for (const [assignmentType, mode, status] of [
    ['Audit', 0o644, 'NonCompliant'],
    ['ApplyAndMonitor', 0o600, 'Compliant'],
    ['ApplyAndAutoCorrect', 0o600, 'Compliant'],
  ] as const) {
    void test(`${assignmentType}: the file ends with mode ${mode.toString(8)} and the report says ${status}`, async () => {
      const file = sshdConfig();
      const service = startService();
      await answer(service, 1, [await published(keys.privateKey, { assignmentType }, SSHD_MODE)]);
      assert.equal(statSync(file).mode & 0o777, mode);
      assert.equal(api.reports[0]?.complianceStatus, status);
    });
  }

  void describe('drift after the first evaluation', () => {
    let file = '';
    beforeEach(() => {
      file = sshdConfig();
    });
    const mode = (): number => statSync(file).mode & 0o777;
    const last = () => api.reports.at(-1);

    void test('ApplyAndAutoCorrect corrects drift at every evaluation', async () => {
      const service = startService();
      await answer(service, 1, [
        await published(keys.privateKey, { assignmentType: 'ApplyAndAutoCorrect' }, SSHD_MODE),
      ]);
      assert.equal(mode(), 0o600);
      chmodSync(file, 0o644);
      await advance(service, FREQUENCY_MS);
      assert.equal(api.reports.length, 2);
      assert.equal(mode(), 0o600, 'corrected again');
      assert.equal(last()?.complianceStatus, 'Compliant');
      assert.deepEqual(
        last()?.resources[0]?.reasons.map((r) => r.code),
        ['file.mode.remediated', 'file.ok'],
      );
    });

    void test('ApplyAndMonitor applies once, then reports drift without correcting it, across a restart; a new version applies again', async () => {
      const first = startService();
      const assignment = await published(
        keys.privateKey,
        { assignmentType: 'ApplyAndMonitor' },
        SSHD_MODE,
      );
      await answer(first, 1, [assignment]);
      assert.equal(mode(), 0o600, 'applied');
      assert.equal(last()?.complianceStatus, 'Compliant');

      chmodSync(file, 0o644);
      await advance(first, FREQUENCY_MS);
      assert.equal(api.reports.length, 2);
      assert.equal(mode(), 0o644, 'drift is not corrected');
      assert.equal(last()?.complianceStatus, 'NonCompliant');
      const reasons = last()?.resources[0]?.reasons ?? [];
      assert.equal(reasons.at(-1)?.code, 'applyAndMonitor.driftNotCorrected');
      assert.match(reasons.at(-1)?.phrase ?? '', /applied this configuration once/);

      // A trigger evaluates, and a restart remembers what was applied: neither applies again.
      await answer(first, 2, [{ ...assignment, evaluationRequest: 1 }]);
      assert.equal(api.reports.length, 3);
      assert.equal(mode(), 0o644);
      await first.stop();
      const second = startService();
      await settle(second);
      await advance(second, 60_000);
      assert.equal(mode(), 0o644, 'not applied again after a restart');

      // A new version of the assignment (other parameters) is applied once more.
      await answer(second, 3, [
        { ...assignment, evaluationRequest: 1, parameters: [{ name: 'x', value: '1' }] },
      ]);
      assert.equal(mode(), 0o600);
      assert.equal(last()?.complianceStatus, 'Compliant');
    });

    void test('Audit never changes the file, and its drift carries no ApplyAndMonitor reason', async () => {
      const service = startService();
      await answer(service, 1, [
        await published(keys.privateKey, { assignmentType: 'Audit' }, SSHD_MODE),
      ]);
      await advance(service, FREQUENCY_MS);
      assert.equal(mode(), 0o644);
      assert.deepEqual(
        api.reports.map((r) => r.complianceStatus),
        ['NonCompliant', 'NonCompliant'],
      );
      for (const report of api.reports) {
        assert.ok(
          report.resources[0]?.reasons.every((r) => r.code !== 'applyAndMonitor.driftNotCorrected'),
        );
      }
    });
  });
});
