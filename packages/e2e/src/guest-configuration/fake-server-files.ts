// A realistic Debian server's security-relevant files under an agent's test root, compliant with
// the Linux baseline except for what a test asks to break.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const SSHD_CONFIG = `# OpenSSH server configuration, hardened
Include /etc/ssh/sshd_config.d/*.conf
Protocol 2
LogLevel INFO
MaxAuthTries 4
HostbasedAuthentication no
PermitRootLogin no
PermitEmptyPasswords no
PasswordAuthentication no
LoginGraceTime 60
Ciphers aes256-ctr,aes192-ctr,aes128-ctr,aes256-gcm@openssh.com
ChallengeResponseAuthentication no
UsePAM yes
X11Forwarding no
Subsystem sftp /usr/lib/openssh/sftp-server
`;

const PASSWD = `root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
sshd:x:105:65534::/run/sshd:/usr/sbin/nologin
alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash
`;

const SHADOW = `root:$6$Jd8s0aVq$Qm2v1Yk3hA0lq9ZpW4o8:19700:0:365:7:::
daemon:*:19700:0:99999:7:::
sshd:!:19700:0:99999:7:::
alice:$6$pT7c9eXw$e3GkY8v2Q1bN0mR5s:19700:0:365:7:::
`;

const GROUP = `root:x:0:
daemon:x:1:
shadow:x:42:
alice:x:1000:
`;

const LOGIN_DEFS = `# /etc/login.defs
MAIL_DIR        /var/mail
PASS_MAX_DAYS   365
PASS_MIN_DAYS   1
PASS_WARN_AGE   7
UMASK           077
ENCRYPT_METHOD  SHA512
`;

const DPKG_STATUS = `Package: openssh-server
Status: install ok installed
Priority: optional
Version: 1:9.2p1-2

Package: bash
Status: install ok installed
Priority: required
Version: 5.2.15-2
`;

/** path under /, contents, mode */
const FILES: readonly [string, string, number][] = [
  ['etc/ssh/sshd_config', SSHD_CONFIG, 0o600],
  ['etc/ssh/sshd_config.d/50-cloud.conf', 'ClientAliveInterval 120\n', 0o600],
  ['etc/passwd', PASSWD, 0o644],
  ['etc/shadow', SHADOW, 0o400],
  ['etc/shadow-', SHADOW, 0o400],
  ['etc/group', GROUP, 0o644],
  ['etc/login.defs', LOGIN_DEFS, 0o644],
  ['proc/sys/net/ipv4/tcp_syncookies', '1\n', 0o644],
  ['var/lib/dpkg/status', DPKG_STATUS, 0o644],
];

/** Writes the files under `root`; `modes` overrides a file's mode (e.g. to break rule 5.2.1). */
export function seedServerFiles(root: string, modes: Record<string, number> = {}): void {
  for (const [path, content, mode] of FILES) {
    const file = join(root, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
    chmodSync(file, modes[path] ?? mode);
  }
}
