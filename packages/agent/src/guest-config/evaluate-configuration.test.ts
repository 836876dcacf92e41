// Evaluating a configuration on a fake server root: remediating assignment types bring file and
// configKey rules into line and say what changed; nothing ever reaches the agent's folders.
import assert from 'node:assert/strict';
import { linkSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { AssignmentType, GuestConfiguration, GuestConfigurationRule } from '@tether/protocol';
import {
  groupFor,
  makeFakeServer,
  passwdFor,
  type FakeServer,
} from '../test-support/fake-server.js';
import { evaluateConfiguration } from './evaluate-configuration.js';

const SSHD = '/etc/ssh/sshd_config';
const configuration = (...rules: GuestConfigurationRule[]): GuestConfiguration => ({
  name: 'Test',
  version: '1.0',
  rules,
});
const sshdShadowMode: GuestConfigurationRule = {
  id: '5.2.1',
  title: 'sshd_config 0600',
  kind: 'file',
  path: SSHD,
  maxMode: '0600',
};
const permitRootLogin: GuestConfigurationRule = {
  id: '109',
  title: 'no root login',
  kind: 'configKey',
  path: SSHD,
  format: 'sshd',
  key: 'PermitRootLogin',
  expect: { equals: 'no' },
};

void describe('evaluateConfiguration remediation', () => {
  let server: FakeServer;
  beforeEach(() => {
    server = makeFakeServer();
    server.write('/etc/passwd', passwdFor());
    server.write('/etc/group', groupFor());
    server.write(
      SSHD,
      '# Hardened\nPermitRootLogin yes\nPort 22\nMatch User x\n  X11Forwarding no\n',
    );
  });
  afterEach(() => server.remove());
  const run = (assignmentType: AssignmentType, ...rules: GuestConfigurationRule[]) =>
    evaluateConfiguration(configuration(...rules), { root: server.root, assignmentType });

  void test('Audit reports and changes nothing', async () => {
    const before = readFileSync(server.host(SSHD), 'utf8');
    const report = await run('Audit', sshdShadowMode, permitRootLogin);
    assert.equal(report.complianceStatus, 'NonCompliant');
    assert.equal(readFileSync(server.host(SSHD), 'utf8'), before);
    assert.equal(statSync(server.host(SSHD)).mode & 0o777, 0o644);
  });

  for (const type of ['ApplyAndMonitor', 'ApplyAndAutoCorrect'] as const) {
    void test(`${type} fixes the mode and the key, then reports them compliant`, async () => {
      const report = await run(type, sshdShadowMode, permitRootLogin);
      assert.equal(report.complianceStatus, 'Compliant');
      assert.deepEqual(report.rules[0]?.reasons[0], {
        code: 'file.mode.remediated',
        phrase: `${SSHD}: changed mode from 0644 to 0600`,
      });
      assert.equal(report.rules[0]?.reasons[1]?.code, 'file.ok');
      assert.equal(report.rules[1]?.reasons[0]?.code, 'configKey.remediated');
      assert.match(report.rules[1]?.reasons[1]?.phrase ?? '', /"no" in .* line 2, as expected/);
      assert.equal(
        readFileSync(server.host(SSHD), 'utf8'),
        '# Hardened\nPermitRootLogin no\nPort 22\nMatch User x\n  X11Forwarding no\n',
      );
      // The rewritten file keeps the mode the first rule set, and its owner.
      const stats = statSync(server.host(SSHD));
      assert.equal(stats.mode & 0o7777, 0o600);
      assert.equal(stats.uid, process.getuid?.());
    });
  }

  void test('an absent key is added before Match, so sshd reads it', async () => {
    const report = await run('ApplyAndMonitor', {
      ...permitRootLogin,
      key: 'MaxAuthTries',
      expect: { atMost: 6 },
      remediateTo: '4',
    });
    assert.equal(report.complianceStatus, 'Compliant');
    assert.match(readFileSync(server.host(SSHD), 'utf8'), /Port 22\nMaxAuthTries 4\nMatch User x/);
  });

  void test('a drop-in that sshd reads first is the file changed, with its mode kept', async () => {
    server.write(SSHD, 'Include /etc/ssh/sshd_config.d/*.conf\n# main\nPermitRootLogin no\n');
    server.write('/etc/ssh/sshd_config.d/50-cloud.conf', '# cloud\nPermitRootLogin yes\n', 0o640);
    const report = await run('ApplyAndAutoCorrect', permitRootLogin);
    assert.equal(report.complianceStatus, 'Compliant');
    assert.match(report.rules[0]?.reasons[0]?.phrase ?? '', /from "yes" to "no" in .*50-cloud/);
    const dropIn = server.host('/etc/ssh/sshd_config.d/50-cloud.conf');
    assert.equal(readFileSync(dropIn, 'utf8'), '# cloud\nPermitRootLogin no\n');
    assert.equal(statSync(dropIn).mode & 0o777, 0o640);
    assert.equal(
      readFileSync(server.host(SSHD), 'utf8'),
      'Include /etc/ssh/sshd_config.d/*.conf\n# main\nPermitRootLogin no\n',
    );
  });

  void test('other kinds say they are audit-only', async () => {
    server.write('/proc/sys/net/ipv4/tcp_syncookies', '0\n');
    const report = await run('ApplyAndAutoCorrect', {
      id: '47',
      title: 'syncookies',
      kind: 'kernelParameter',
      name: 'net.ipv4.tcp_syncookies',
      expect: { equals: '1' },
    });
    assert.equal(report.complianceStatus, 'NonCompliant');
    assert.deepEqual(report.rules[0]?.reasons[1], {
      code: 'kernelParameter.auditOnly',
      phrase: 'kernelParameter rules are audit-only; nothing was changed',
    });
    assert.equal(readFileSync(server.host('/proc/sys/net/ipv4/tcp_syncookies'), 'utf8'), '0\n');
  });

  void test('a link planted into the agent folder is refused and nothing there changes', async () => {
    server.write('/var/opt/azcmagent/localconfig.json', '{"x":1}\n', 0o644);
    mkdirSync(server.host('/etc/ssh/sshd_config.d'));
    server.link('/etc/ssh/sshd_config.d/agent', '/var/opt/azcmagent/localconfig.json');
    const report = await run('ApplyAndMonitor', {
      ...sshdShadowMode,
      path: '/etc/ssh/sshd_config.d/agent',
    });
    assert.equal(report.complianceStatus, 'NonCompliant');
    assert.equal(report.rules[0]?.reasons[1]?.code, 'file.remediationFailed');
    assert.match(report.rules[0]?.reasons[1]?.phrase ?? '', /agent's folder \/var\/opt\/azcmagent/);
    assert.equal(statSync(server.host('/var/opt/azcmagent/localconfig.json')).mode & 0o777, 0o644);
  });

  void test('an agent folder that is itself a link elsewhere is followed by the guard', async () => {
    server.write('/srv/agent-data/state', 'PermitRootLogin yes\n', 0o644);
    mkdirSync(server.host('/var/opt'), { recursive: true });
    server.link('/var/opt/azcmagent', '/srv/agent-data');
    const report = await run('ApplyAndMonitor', {
      ...permitRootLogin,
      path: '/srv/agent-data/state',
    });
    assert.equal(report.rules[0]?.reasons[1]?.code, 'configKey.remediationFailed');
    assert.equal(
      readFileSync(server.host('/srv/agent-data/state'), 'utf8'),
      'PermitRootLogin yes\n',
    );
  });

  void test('a file with a second hard link is refused', async () => {
    linkSync(server.host(SSHD), server.host('/etc/other-name'));
    const report = await run('ApplyAndMonitor', sshdShadowMode, permitRootLogin);
    assert.equal(report.complianceStatus, 'NonCompliant');
    for (const rule of report.rules) {
      assert.match(rule.reasons[1]?.phrase ?? '', /has 2 hard links/);
    }
    assert.equal(statSync(server.host(SSHD)).mode & 0o777, 0o644);
    assert.match(readFileSync(server.host(SSHD), 'utf8'), /PermitRootLogin yes/);
  });

  void test('as root, the owner is changed too', { skip: skipUnlessRoot() }, async () => {
    server.write('/etc/passwd', passwdFor(['alice:x:1000:1000::/home/alice:/bin/sh']));
    server.write('/etc/shadow', 'root:*:1::::::\n', 0o640);
    const { chownSync } = await import('node:fs');
    chownSync(server.host('/etc/shadow'), 1000, 42);
    const report = await run('ApplyAndMonitor', {
      id: '11.1',
      title: 'shadow',
      kind: 'file',
      path: '/etc/shadow',
      owner: 'root',
      group: 'root',
      maxMode: '0400',
    });
    assert.equal(report.complianceStatus, 'Compliant');
    assert.deepEqual(
      report.rules[0]?.reasons.slice(0, 3).map((r) => r.phrase),
      [
        '/etc/shadow: changed owner from alice to root',
        '/etc/shadow: changed group from shadow to root',
        '/etc/shadow: changed mode from 0640 to 0400',
      ],
    );
    const stats = statSync(server.host('/etc/shadow'));
    assert.deepEqual([stats.uid, stats.gid, stats.mode & 0o7777], [0, 0, 0o400]);
  });
});

function skipUnlessRoot(): string | false {
  return process.getuid?.() === 0 ? false : 'changing a file owner needs root';
}
