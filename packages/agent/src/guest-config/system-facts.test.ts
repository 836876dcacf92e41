// Reading a fake server: sshd's Include spliced in where it stands, links followed inside the
// root (never out to the real machine), systemd enablement from links, /proc/sys under the root.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { makeFakeServer, type FakeServer } from '../test-support/fake-server.js';
import { findConfigValue } from './config-file-value.js';
import { resolveUnderRoot } from './rooted-path.js';
import { SystemFacts } from './system-facts.js';

void describe('SystemFacts', () => {
  let server: FakeServer;
  beforeEach(() => {
    server = makeFakeServer();
  });
  afterEach(() => server.remove());

  void test("a drop-in included before the main file's setting wins, as in sshd", () => {
    server.write('/etc/ssh/sshd_config', 'Include sshd_config.d/*.conf\nPermitRootLogin no\n');
    server.write('/etc/ssh/sshd_config.d/50-cloud.conf', 'PermitRootLogin yes\n');
    server.write('/etc/ssh/sshd_config.d/10-a.conf', '# first\n');
    const config = new SystemFacts(server.root).config('/etc/ssh/sshd_config', 'sshd');
    assert.ok(config.exists);
    assert.deepEqual(config.lines.map((l) => `${l.file}:${l.line}`).slice(0, 3), [
      '/etc/ssh/sshd_config.d/10-a.conf:1',
      '/etc/ssh/sshd_config.d/10-a.conf:2',
      '/etc/ssh/sshd_config.d/50-cloud.conf:1',
    ]);
    assert.deepEqual(
      findConfigValue('sshd', config.lines, 'PermitRootLogin')?.at.file,
      '/etc/ssh/sshd_config.d/50-cloud.conf',
    );
  });

  void test('an absolute link is followed inside the root, not on the real machine', () => {
    server.write('/srv/real-passwd', 'root:x:0:0::/:/bin/sh\n', 0o640);
    server.link('/etc/passwd', '/srv/real-passwd');
    server.link('/etc/loop', '/etc/loop');
    const system = new SystemFacts(server.root);
    assert.equal(system.text('/etc/passwd'), 'root:x:0:0::/:/bin/sh\n');
    const facts = system.file('/etc/passwd');
    assert.ok(facts.exists);
    assert.equal(facts.mode, 0o640);
    assert.equal(system.text('/etc/loop'), undefined);
    assert.equal(resolveUnderRoot(server.root, '/etc/../etc/passwd').logical, '/srv/real-passwd');
  });

  void test('reads kernel parameters from proc/sys under a test root', () => {
    server.write('/proc/sys/net/ipv4/tcp_syncookies', '0\n');
    assert.equal(new SystemFacts(server.root).kernelParameter('net.ipv4.tcp_syncookies'), '0\n');
  });

  void test('a unit is enabled by a wants link and masked by a link to /dev/null', () => {
    server.write('/lib/systemd/system/telnet.socket', '[Socket]\n');
    server.write('/lib/systemd/system/ssh.service', '[Service]\n');
    server.link(
      '/etc/systemd/system/sockets.target.wants/telnet.socket',
      '/lib/systemd/system/telnet.socket',
    );
    server.link('/etc/systemd/system/ssh.service', '/dev/null');
    const system = new SystemFacts(server.root);
    assert.deepEqual(system.systemdUnit('telnet.socket'), {
      unitFiles: ['/lib/systemd/system/telnet.socket'],
      masked: false,
      wantedBy: ['/etc/systemd/system/sockets.target.wants'],
    });
    assert.equal(system.systemdUnit('ssh.service').masked, true);
    assert.deepEqual(system.systemdUnit('cups.service').unitFiles, []);
  });
});
