// The upgrader with a fake control plane and installer: a package that is not the one published
// is never installed, a good one is installed once and reported, and a report that could not be
// sent is sent on the next goal state; with no trusted key or a stranger's signature nothing is
// even downloaded.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AgentUpgradeGoal, AgentUpgradeReport } from '@tether/protocol/agent-upgrade';
import { signAgentPackage } from '@tether/protocol/extension-package';
import { defaultConfig } from '../config/property-table.js';
import { agentPaths } from '../paths.js';
import { AgentUpgrader } from './agent-upgrader.js';

void describe('AgentUpgrader', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tether-upgrader-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const deb = Buffer.from('!<arch>\ndebian-binary   a package for the test');
  const publisher = generateKeyPairSync('ed25519');
  const stranger = generateKeyPairSync('ed25519');
  const goalFor = async (
    bytes: Buffer,
    correlationId: string,
    signer = publisher.privateKey,
  ): Promise<AgentUpgradeGoal> => ({
    version: '2.0.0',
    sha256: createHash('sha256').update(bytes).digest('hex'),
    signature: await signAgentPackage(signer, '2.0.0', bytes),
    size: bytes.byteLength,
    downloadPath: '/providers/Tether.Agent/packages/2.0.0/content?api-version=2024-07-10',
    correlationId,
  });

  function world(
    served: Buffer,
    reportFails = false,
    keys: KeyObject[] = [stranger.publicKey, publisher.publicKey],
  ) {
    const reports: AgentUpgradeReport[] = [];
    const downloads: string[] = [];
    const installed: string[] = [];
    let failing = reportFails;
    const upgrader = new AgentUpgrader({
      dataDir: dir,
      api: {
        fetchAgentPackage: (path) => {
          downloads.push(path);
          return Promise.resolve(served);
        },
        reportAgentUpgrade: (report) => {
          if (failing) return Promise.reject(new Error('control plane unreachable'));
          reports.push(report);
          return Promise.resolve();
        },
      },
      clock: { now: () => Date.parse('2026-12-03T10:00:00Z') },
      scheduler: { schedule: () => () => undefined },
      log: () => undefined,
      loadConfig: () => ({
        state: 'ok',
        paths: agentPaths(dir),
        stored: {},
        settings: defaultConfig(),
        bytes: null,
      }),
      runningVersion: '1.0.0',
      notPackaged: undefined,
      trustedKeys: () => keys,
      readFields: () => Promise.resolve({ package: 'azcmagent', version: '2.0.0' }),
      install: (file) => {
        installed.push(file);
        return Promise.resolve({ ok: true, underSystemd: true });
      },
    });
    return { upgrader, reports, installed, downloads, heal: () => (failing = false) };
  }

  void it('installs nothing when the bytes are not the ones published', async () => {
    const w = world(Buffer.from('something else entirely'));
    w.upgrader.update(await goalFor(deb, '11111111-1111-4111-8111-111111111111'));
    await w.upgrader.idle();
    assert.deepEqual(w.installed, []);
    assert.equal(w.reports[0]?.status, 'Failed');
    assert.match(w.reports[0]?.message ?? '', /not the one published/);
    assert.deepEqual(readdirSync(join(dir, 'upgrade')), [], 'the download is deleted');
  });

  void it('installs the published package once and reports it', async () => {
    const w = world(deb);
    const goal = await goalFor(deb, '22222222-2222-4222-8222-222222222222');
    w.upgrader.update(goal);
    w.upgrader.update(goal);
    await w.upgrader.idle();
    assert.equal(w.installed.length, 1);
    assert.equal(w.reports.length, 1);
    assert.deepEqual(
      { ...w.reports[0], message: undefined },
      {
        desiredVersion: '2.0.0',
        correlationId: goal.correlationId,
        status: 'Success',
        message: undefined,
        timestamp: '2026-12-03T10:00:00.000Z',
      },
    );
  });

  void it('keeps a report the control plane did not take and sends it later', async () => {
    const w = world(deb, true);
    const goal = await goalFor(deb, '33333333-3333-4333-8333-333333333333');
    w.upgrader.update(goal);
    await w.upgrader.idle();
    assert.equal(w.reports.length, 0);
    w.heal();
    w.upgrader.update(goal);
    await w.upgrader.idle();
    assert.equal(w.installed.length, 1, 'not installed twice');
    assert.equal(w.reports.length, 1);
    assert.equal(w.reports[0]?.correlationId, goal.correlationId);
  });

  void it('with no trusted key, or a signature by a key not trusted, downloads nothing', async () => {
    const none = world(deb, false, []);
    none.upgrader.update(await goalFor(deb, '44444444-4444-4444-8444-444444444444'));
    await none.upgrader.idle();
    assert.deepEqual([none.downloads, none.installed], [[], []]);
    assert.match(none.reports[0]?.message ?? '', /no key is trusted for agent packages/);

    const untrusted = world(deb, false, [publisher.publicKey]);
    untrusted.upgrader.update(
      await goalFor(deb, '55555555-5555-4555-8555-555555555555', stranger.privateKey),
    );
    await untrusted.upgrader.idle();
    assert.deepEqual([untrusted.downloads, untrusted.installed], [[], []]);
    assert.equal(untrusted.reports[0]?.status, 'Failed');
    assert.match(
      untrusted.reports[0]?.message ?? '',
      /signature is not accepted \(The signature of azcmagent 2\.0\.0 was not made by a key trusted for agent packages\.\)/,
    );
  });

  void it('refuses a goal whose signature is for other bytes than the goal names', async () => {
    const w = world(deb);
    const goal = await goalFor(deb, '66666666-6666-4666-8666-666666666666');
    const other = await goalFor(Buffer.from('other'), goal.correlationId);
    w.upgrader.update({ ...goal, signature: other.signature });
    await w.upgrader.idle();
    assert.deepEqual([w.downloads, w.installed], [[], []]);
    assert.match(w.reports[0]?.message ?? '', /does not match its signature/);
  });
});
