// The Linux security baseline, with Azure's rule ids: the checks Azure's AzureLinuxBaseline
// guest configuration makes on sshd, accounts, login.defs, the kernel and installed packages.
import type { GuestConfiguration } from '@tether/protocol';
import { sshdKey } from './sshd-key.js';

/** OpenSSH's ciphers in counter or AEAD modes; CBC, arcfour and 3DES are refused. */
const STRONG_CIPHER = String.raw`(?:aes(?:128|192|256)-ctr|aes(?:128|256)-gcm@openssh\.com|chacha20-poly1305@openssh\.com)`;

/** OpenSSH's built-in cipher list, in force when sshd_config does not name one. */
const OPENSSH_DEFAULT_CIPHERS =
  'chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com';

export const AZURE_LINUX_BASELINE: GuestConfiguration = {
  name: 'AzureLinuxBaseline',
  version: '1.0.0',
  rules: [
    {
      id: '5.2.1',
      title: 'Ensure permissions on /etc/ssh/sshd_config are configured',
      kind: 'file',
      path: '/etc/ssh/sshd_config',
      present: true,
      owner: 'root',
      group: 'root',
      maxMode: '0600',
    },
    {
      id: '11.1',
      title: 'Ensure permissions on /etc/shadow are configured',
      kind: 'file',
      path: '/etc/shadow',
      present: true,
      owner: 'root',
      maxMode: '0400',
    },
    {
      id: '11.2',
      title: 'Ensure permissions on /etc/shadow- are configured',
      kind: 'file',
      path: '/etc/shadow-',
      owner: 'root',
      maxMode: '0400',
    },
    {
      id: '12.1',
      title: 'Ensure permissions on /etc/passwd are configured',
      kind: 'file',
      path: '/etc/passwd',
      present: true,
      owner: 'root',
      group: 'root',
      mode: '0644',
    },
    {
      id: '23.2',
      title: 'Ensure all accounts have a password or are locked',
      kind: 'accounts',
      check: 'noEmptyPasswords',
    },
    {
      id: '24',
      title: 'Ensure root is the only UID 0 account',
      kind: 'accounts',
      check: 'onlyRootUid0',
    },
    {
      id: '29',
      title: 'Ensure the default umask for users is 077',
      kind: 'configKey',
      path: '/etc/login.defs',
      format: 'loginDefs',
      key: 'UMASK',
      expect: { equals: '077' },
    },
    sshdKey(
      '106.1',
      'Ensure SSH Protocol is set to 2',
      'Protocol',
      { equals: '2' },
      { default: '2' },
    ),
    sshdKey(
      '106.5',
      'Ensure SSH LogLevel is set to INFO',
      'LogLevel',
      { equals: 'INFO' },
      {
        default: 'INFO',
      },
    ),
    sshdKey(
      '106.7',
      'Ensure SSH MaxAuthTries is set to 6 or less',
      'MaxAuthTries',
      { atMost: 6 },
      {
        default: '6',
        remediateTo: '4',
      },
    ),
    sshdKey(
      '108',
      'Ensure SSH HostbasedAuthentication is disabled',
      'HostbasedAuthentication',
      {
        equals: 'no',
      },
      { default: 'no' },
    ),
    sshdKey(
      '109',
      'Ensure SSH root login is disabled',
      'PermitRootLogin',
      { equals: 'no' },
      {
        default: 'prohibit-password',
      },
    ),
    sshdKey(
      '110',
      'Ensure SSH PermitEmptyPasswords is disabled',
      'PermitEmptyPasswords',
      {
        equals: 'no',
      },
      { default: 'no' },
    ),
    sshdKey(
      '110.2',
      'Ensure SSH LoginGraceTime is set to one minute or less',
      'LoginGraceTime',
      {
        atMost: 60,
      },
      { default: '120', remediateTo: '60' },
    ),
    sshdKey(
      '113',
      'Ensure only approved ciphers are used',
      'Ciphers',
      {
        matches: `^${STRONG_CIPHER}(?:,${STRONG_CIPHER})*$`,
      },
      { default: OPENSSH_DEFAULT_CIPHERS, remediateTo: OPENSSH_DEFAULT_CIPHERS },
    ),
    {
      id: '157.1',
      title: 'Ensure password expiration is 365 days or less',
      kind: 'configKey',
      path: '/etc/login.defs',
      format: 'loginDefs',
      key: 'PASS_MAX_DAYS',
      expect: { atMost: 365 },
      default: '99999',
      remediateTo: '365',
    },
    {
      id: '157.11',
      title: 'Ensure password hashing uses SHA-512',
      kind: 'accounts',
      check: 'passwordHashSha512',
    },
    {
      id: '47',
      title: 'Ensure TCP SYN cookies are enabled',
      kind: 'kernelParameter',
      name: 'net.ipv4.tcp_syncookies',
      expect: { equals: '1' },
    },
    {
      id: '73',
      title: 'Ensure no telnet server is installed',
      kind: 'package',
      names: ['telnetd', 'inetutils-telnetd', 'telnetd-ssl'],
      installed: false,
    },
  ],
};
