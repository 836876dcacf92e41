// Every rule of the Linux baseline against a fake server: all compliant, then each rule broken
// alone — only that rule turns non-compliant, with a reason saying what was found.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { evaluateConfiguration } from '@tether/agent/guest-config/evaluate-configuration';
import { makeFakeServer, type FakeServer } from '@tether/agent/test-support/fake-server';
import { parseGuestConfiguration } from '@tether/protocol';
import { AZURE_LINUX_BASELINE } from './azure-linux-baseline.js';
import { COMPLIANT_SHADOW, DPKG_STATUS, writeCompliantServer } from './baseline-server.js';

type Breakage = (server: FakeServer) => void;

function edit(server: FakeServer, path: string, change: (text: string) => string): void {
  server.write(path, change(readFileSync(server.host(path), 'utf8')), 0o600);
}

const sshd =
  (from: RegExp, to: string): Breakage =>
  (server) => {
    edit(server, '/etc/ssh/sshd_config', (text) => text.replace(from, to));
  };

const loginDefs =
  (from: RegExp, to: string): Breakage =>
  (server) => {
    server.write(
      '/etc/login.defs',
      readFileSync(server.host('/etc/login.defs'), 'utf8').replace(from, to),
    );
  };

const BROKEN: [id: string, breakage: Breakage, phrase: RegExp][] = [
  [
    '5.2.1',
    (s) => s.chmod('/etc/ssh/sshd_config', 0o644),
    /sshd_config has mode 0644; expected 0600 or stricter/,
  ],
  [
    '11.1',
    (s) => s.chmod('/etc/shadow', 0o640),
    /\/etc\/shadow has mode 0640; expected 0400 or stricter/,
  ],
  ['11.2', (s) => s.chmod('/etc/shadow-', 0o644), /\/etc\/shadow- has mode 0644; expected 0400/],
  ['12.1', (s) => s.chmod('/etc/passwd', 0o664), /\/etc\/passwd has mode 0664; expected 0644$/],
  [
    '23.2',
    (s) => s.write('/etc/shadow', `${COMPLIANT_SHADOW}bob::19700:0:99999:7:::\n`, 0o400),
    /account bob has an empty password/,
  ],
  [
    '24',
    (s) =>
      s.write(
        '/etc/passwd',
        `${readFileSync(s.host('/etc/passwd'), 'utf8')}toor:x:0:0::/root:/bin/sh\n`,
      ),
    /account toor has uid 0 in \/etc\/passwd; expected only root/,
  ],
  [
    '29',
    loginDefs(/UMASK\s+077/, 'UMASK 022'),
    /UMASK is "022" in \/etc\/login.defs line \d+; expected "077"/,
  ],
  [
    '106.1',
    sshd(/Protocol 2/, 'Protocol 1'),
    /Protocol is "1" in \/etc\/ssh\/sshd_config line 3; expected "2"/,
  ],
  ['106.5', sshd(/LogLevel INFO/, 'LogLevel QUIET'), /LogLevel is "QUIET" .*; expected "INFO"/],
  [
    '106.7',
    sshd(/MaxAuthTries 4/, 'MaxAuthTries 10'),
    /MaxAuthTries is "10" .*; expected at most 6/,
  ],
  ['108', sshd(/HostbasedAuthentication no/, 'HostbasedAuthentication yes'), /expected "no"/],
  [
    '109',
    sshd(/^PermitRootLogin no\n/m, ''),
    /PermitRootLogin is not set in \/etc\/ssh\/sshd_config, so the default "prohibit-password" applies; expected "no"/,
  ],
  [
    '110',
    sshd(/PermitEmptyPasswords no/, 'PermitEmptyPasswords yes'),
    /PermitEmptyPasswords is "yes"/,
  ],
  [
    '110.2',
    sshd(/LoginGraceTime 1m/, 'LoginGraceTime 2m'),
    /LoginGraceTime is "2m" .*; expected at most 60/,
  ],
  [
    '113',
    sshd(/^Ciphers .*$/m, 'Ciphers aes256-ctr,aes128-cbc'),
    /Ciphers is "aes256-ctr,aes128-cbc"/,
  ],
  [
    '157.1',
    loginDefs(/PASS_MAX_DAYS\s+365/, 'PASS_MAX_DAYS 99999'),
    /PASS_MAX_DAYS is "99999" .*; expected at most 365/,
  ],
  [
    '157.11',
    loginDefs(/ENCRYPT_METHOD\s+SHA512/, 'ENCRYPT_METHOD MD5'),
    /ENCRYPT_METHOD is "MD5" .*; expected SHA512/,
  ],
  [
    '47',
    (s) => s.write('/proc/sys/net/ipv4/tcp_syncookies', '0\n'),
    /tcp_syncookies is "0"; expected "1"/,
  ],
  [
    '73',
    (s) =>
      s.write(
        '/var/lib/dpkg/status',
        DPKG_STATUS.replace('deinstall ok config-files', 'install ok installed'),
      ),
    /package telnetd is installed; expected none of telnetd/,
  ],
];

void describe('AzureLinuxBaseline', () => {
  void test('is a valid configuration holding exactly the baseline rules', () => {
    const parsed = parseGuestConfiguration(JSON.parse(JSON.stringify(AZURE_LINUX_BASELINE)));
    assert.deepEqual(parsed.rules.map((r) => r.id).sort(), BROKEN.map(([id]) => id).sort());
  });

  let compliantServer: FakeServer;
  before(() => {
    compliantServer = makeFakeServer();
    writeCompliantServer(compliantServer);
  });
  after(() => compliantServer.remove());

  void test('finds a hardened server compliant with every rule', async () => {
    const report = await evaluateConfiguration(AZURE_LINUX_BASELINE, {
      root: compliantServer.root,
    });
    const failing = report.rules.filter((r) => r.complianceStatus !== 'Compliant');
    assert.deepEqual(failing, []);
    assert.equal(report.complianceStatus, 'Compliant');
  });

  for (const [id, breakage, phrase] of BROKEN) {
    void test(`rule ${id} alone turns non-compliant when its setting is broken`, async () => {
      const server = makeFakeServer();
      try {
        writeCompliantServer(server);
        breakage(server);
        const report = await evaluateConfiguration(AZURE_LINUX_BASELINE, { root: server.root });
        const failing = report.rules.filter((r) => r.complianceStatus === 'NonCompliant');
        assert.deepEqual(
          failing.map((r) => r.id),
          [id],
          JSON.stringify(failing, null, 2),
        );
        assert.equal(report.complianceStatus, 'NonCompliant');
        assert.match(failing[0]?.reasons.map((r) => r.phrase).join('\n') ?? '', phrase);
      } finally {
        server.remove();
      }
    });
  }
});
