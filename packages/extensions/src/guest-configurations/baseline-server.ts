// A fake Debian server that passes every built-in guest configuration rule, for tests and demos
// to break one setting at a time.
import { groupFor, passwdFor, type FakeServer } from '@tether/agent/test-support/fake-server';

export const COMPLIANT_SSHD_CONFIG = `# Debian's layout: drop-ins first, and sshd takes the first value it reads.
Include /etc/ssh/sshd_config.d/*.conf
Protocol 2
LogLevel INFO
MaxAuthTries 4
HostbasedAuthentication no
PermitRootLogin no
PermitEmptyPasswords no
LoginGraceTime 1m
Ciphers aes256-gcm@openssh.com,aes128-ctr,chacha20-poly1305@openssh.com
PasswordAuthentication no
Match User backup
    PermitRootLogin yes
    PasswordAuthentication yes
`;

export const COMPLIANT_LOGIN_DEFS = `# login.defs
MAIL_DIR        /var/mail
PASS_MAX_DAYS   365
PASS_MIN_DAYS   0
UMASK           077
ENCRYPT_METHOD  SHA512
`;

export const COMPLIANT_SHADOW = `root:$6$salt$hash:19700:0:99999:7:::
daemon:*:19700:0:99999:7:::
alice:!:19700:0:99999:7:::
`;

export const DPKG_STATUS = `Package: openssh-server
Status: install ok installed
Version: 1:9.2p1-2

Package: telnetd
Status: deinstall ok config-files
Version: 0.17+2.4-2

Package: bash
Status: install ok installed
Version: 5.2.15-2
`;

export function writeCompliantServer(server: FakeServer): void {
  server.write('/etc/ssh/sshd_config', COMPLIANT_SSHD_CONFIG, 0o600);
  server.write('/etc/ssh/sshd_config.d/10-local.conf', '# nothing set here\n', 0o644);
  server.write('/etc/passwd', passwdFor(['alice:x:1000:1000::/home/alice:/bin/bash']), 0o644);
  server.write('/etc/group', groupFor(), 0o644);
  server.write('/etc/shadow', COMPLIANT_SHADOW, 0o400);
  server.write('/etc/shadow-', COMPLIANT_SHADOW, 0o400);
  server.write('/etc/login.defs', COMPLIANT_LOGIN_DEFS, 0o644);
  server.write('/proc/sys/net/ipv4/tcp_syncookies', '1\n', 0o644);
  server.write('/var/lib/dpkg/status', DPKG_STATUS, 0o644);
}
