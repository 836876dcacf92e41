// The pure engine, table-driven: each row is a rule, the facts found on a server, and the
// verdict with the reason a user reads.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { GuestConfigurationRule } from '@tether/protocol';
import { evaluateRule } from './evaluate-rule.js';
import type { ConfigLine, FileFacts, RuleFacts } from './rule-facts.js';

const t = { id: 'r', title: 'rule' };
const sshd = (key: string, expect: object, extra: object = {}): GuestConfigurationRule =>
  ({
    ...t,
    kind: 'configKey',
    path: '/etc/ssh/sshd_config',
    format: 'sshd',
    key,
    expect,
    ...extra,
  }) as GuestConfigurationRule;
const lines = (text: string, file = '/etc/ssh/sshd_config'): ConfigLine[] =>
  text.split('\n').map((line, i) => ({ file, line: i + 1, text: line }));
const config = (text: string, file?: string): RuleFacts => ({
  kind: 'configKey',
  config: { exists: true, lines: lines(text, file) },
});
const file = (facts: Partial<Extract<FileFacts, { exists: true }>>): RuleFacts => ({
  kind: 'file',
  file: {
    exists: true,
    type: 'file',
    uid: 0,
    gid: 0,
    mode: 0o600,
    user: 'root',
    group: 'root',
    links: 1,
    ...facts,
  },
});
const fileRule = (extra: object): GuestConfigurationRule => ({
  ...t,
  kind: 'file',
  path: '/etc/x',
  ...extra,
});

const ROWS: [string, GuestConfigurationRule, RuleFacts, 'Compliant' | 'NonCompliant', RegExp][] = [
  [
    'file at most: stricter passes',
    fileRule({ maxMode: '0600' }),
    file({ mode: 0o400 }),
    'Compliant',
    /mode 0400, as expected/,
  ],
  [
    'file at most: group-readable fails',
    fileRule({ maxMode: '0600' }),
    file({ mode: 0o640 }),
    'NonCompliant',
    /\/etc\/x has mode 0640; expected 0600 or stricter/,
  ],
  [
    'file exact: stricter fails',
    fileRule({ mode: '0644' }),
    file({ mode: 0o600 }),
    'NonCompliant',
    /has mode 0600; expected 0644$/,
  ],
  [
    'file owner by name',
    fileRule({ owner: 'root' }),
    file({ uid: 1000, user: 'alice' }),
    'NonCompliant',
    /is owned by alice; expected root/,
  ],
  [
    'file owner without a passwd entry',
    fileRule({ owner: 'root' }),
    file({ uid: 4242, user: undefined }),
    'NonCompliant',
    /owned by uid 4242/,
  ],
  [
    'file owner by number',
    fileRule({ owner: '0' }),
    file({ user: undefined }),
    'Compliant',
    /as expected/,
  ],
  [
    'file group',
    fileRule({ group: 'root' }),
    file({ gid: 42, group: 'shadow' }),
    'NonCompliant',
    /has group shadow; expected root/,
  ],
  [
    'file optional and missing',
    fileRule({ maxMode: '0400' }),
    { kind: 'file', file: { exists: false } },
    'Compliant',
    /does not exist, so there is nothing to check/,
  ],
  [
    'file required and missing',
    fileRule({ present: true }),
    { kind: 'file', file: { exists: false } },
    'NonCompliant',
    /does not exist; expected it to exist/,
  ],
  [
    'file that must be absent',
    fileRule({ present: false }),
    file({}),
    'NonCompliant',
    /exists; expected it to be absent/,
  ],
  [
    'sshd first match wins',
    sshd('PermitRootLogin', { equals: 'no' }),
    config('PermitRootLogin yes\nPermitRootLogin no'),
    'NonCompliant',
    /is "yes" in \/etc\/ssh\/sshd_config line 1/,
  ],
  [
    'sshd keys ignore case, values ignore case',
    sshd('permitrootlogin', { equals: 'no' }),
    config('PERMITROOTLOGIN No'),
    'Compliant',
    /as expected/,
  ],
  [
    'sshd key=value form',
    sshd('MaxAuthTries', { atMost: 6 }),
    config('MaxAuthTries=3'),
    'Compliant',
    /"3"/,
  ],
  [
    'sshd Match ends the global section',
    sshd('PermitRootLogin', { equals: 'no' }, { default: 'prohibit-password' }),
    config('Match User x\n  PermitRootLogin no'),
    'NonCompliant',
    /not set .* default "prohibit-password" applies; expected "no"/,
  ],
  [
    'sshd comment ignored',
    sshd('Protocol', { equals: '2' }),
    config('#Protocol 2'),
    'NonCompliant',
    /Protocol is not set in \/etc\/ssh\/sshd_config; expected "2"/,
  ],
  [
    'sshd time value',
    sshd('LoginGraceTime', { atMost: 60 }),
    config('LoginGraceTime 1m30s'),
    'NonCompliant',
    /"1m30s" .* expected at most 60/,
  ],
  [
    'sshd not a number',
    sshd('MaxAuthTries', { atMost: 6 }),
    config('MaxAuthTries many'),
    'NonCompliant',
    /"many"/,
  ],
  [
    'sshd regex',
    sshd('Ciphers', { matches: '^aes256-ctr$' }),
    config('Ciphers aes256-ctr'),
    'Compliant',
    /as expected/,
  ],
  [
    'sshd one of',
    sshd('LogLevel', { oneOf: ['INFO', 'VERBOSE'] }),
    config('LogLevel verbose'),
    'Compliant',
    /as expected/,
  ],
  [
    'config file missing',
    sshd('Protocol', { equals: '2' }),
    { kind: 'configKey', config: { exists: false } },
    'NonCompliant',
    /\/etc\/ssh\/sshd_config does not exist; expected "2"/,
  ],
  [
    'login.defs last match wins, keys keep case',
    {
      ...t,
      kind: 'configKey',
      path: '/etc/login.defs',
      format: 'loginDefs',
      key: 'UMASK',
      expect: { equals: '077' },
    },
    config('UMASK 022\numask 027\nUMASK 077', '/etc/login.defs'),
    'Compliant',
    /line 3/,
  ],
  [
    'sysctl.conf with slashes and spaces',
    {
      ...t,
      kind: 'configKey',
      path: '/etc/sysctl.conf',
      format: 'sysctl',
      key: 'net.ipv4.tcp_syncookies',
      expect: { equals: '1' },
    },
    config('; comment\nnet/ipv4/tcp_syncookies=0\nnet.ipv4.tcp_syncookies = 1', '/etc/sysctl.conf'),
    'Compliant',
    /line 3/,
  ],
  [
    'kernel parameter missing',
    { ...t, kind: 'kernelParameter', name: 'net.ipv4.x', expect: { equals: '1' } },
    { kind: 'kernelParameter', value: undefined },
    'NonCompliant',
    /does not exist on this kernel/,
  ],
  [
    'kernel vector value',
    {
      ...t,
      kind: 'kernelParameter',
      name: 'net.ipv4.ip_local_port_range',
      expect: { equals: '32768 60999' },
    },
    { kind: 'kernelParameter', value: '32768\t60999\n' },
    'Compliant',
    /"32768 60999"/,
  ],
  [
    'package absent',
    { ...t, kind: 'package', names: ['telnetd'], installed: false },
    { kind: 'package', installed: new Set(['bash']) },
    'Compliant',
    /none of telnetd is installed/,
  ],
  [
    'package required but missing',
    { ...t, kind: 'package', names: ['auditd', 'bash'], installed: true },
    { kind: 'package', installed: new Set(['bash']) },
    'NonCompliant',
    /package auditd is not installed; expected installed/,
  ],
  [
    'dpkg database unreadable',
    { ...t, kind: 'package', names: ['telnetd'], installed: false },
    { kind: 'package', installed: undefined },
    'NonCompliant',
    /cannot be read/,
  ],
  [
    'uid 0 only root',
    { ...t, kind: 'accounts', check: 'onlyRootUid0' },
    {
      kind: 'accounts',
      passwd: 'root:x:0:0::/:/bin/sh\ntoor:x:0:0::/:/bin/sh\nadmin:x:0:0::/:/bin/sh\n',
      shadow: undefined,
      loginDefs: undefined,
    },
    'NonCompliant',
    /accounts toor, admin have uid 0/,
  ],
  [
    'empty password in passwd itself',
    { ...t, kind: 'accounts', check: 'noEmptyPasswords' },
    {
      kind: 'accounts',
      passwd: 'root:x:0:0::/:/bin/sh\nguest::1001:1001::/:/bin/sh\n',
      shadow: 'root:!:1::::::\n',
      loginDefs: undefined,
    },
    'NonCompliant',
    /account guest has an empty password/,
  ],
  [
    'shadow unreadable fails closed',
    { ...t, kind: 'accounts', check: 'noEmptyPasswords' },
    {
      kind: 'accounts',
      passwd: 'root:x:0:0::/:/bin/sh\n',
      shadow: undefined,
      loginDefs: undefined,
    },
    'NonCompliant',
    /\/etc\/shadow cannot be read/,
  ],
  [
    'no ENCRYPT_METHOD',
    { ...t, kind: 'accounts', check: 'passwordHashSha512' },
    { kind: 'accounts', passwd: '', shadow: undefined, loginDefs: '# ENCRYPT_METHOD SHA512\n' },
    'NonCompliant',
    /not set .* DES; expected SHA512/,
  ],
  [
    'unit enabled through a wants link',
    { ...t, kind: 'systemdUnit', unit: 'telnet.socket', enabled: false },
    {
      kind: 'systemdUnit',
      unit: {
        unitFiles: ['/lib/systemd/system/telnet.socket'],
        masked: false,
        wantedBy: ['/etc/systemd/system/sockets.target.wants'],
      },
    },
    'NonCompliant',
    /telnet.socket is enabled \(wanted by \/etc\/systemd\/system\/sockets.target.wants\); expected disabled/,
  ],
  [
    'masked unit is not enabled',
    { ...t, kind: 'systemdUnit', unit: 'ssh.service', enabled: true },
    {
      kind: 'systemdUnit',
      unit: {
        unitFiles: ['/lib/systemd/system/ssh.service'],
        masked: true,
        wantedBy: ['/etc/systemd/system/multi-user.target.wants'],
      },
    },
    'NonCompliant',
    /ssh.service is masked; expected enabled/,
  ],
  [
    'command exit code',
    {
      ...t,
      kind: 'command',
      command: ['/bin/check'],
      timeoutSeconds: 5,
      compliantExitCodes: [0, 3],
    },
    { kind: 'command', result: { outcome: 'exited', exitCode: 1, output: '' } },
    'NonCompliant',
    /\/bin\/check exited with 1; expected 0 or 3$/,
  ],
  [
    'command exit code that is listed, with the end of its output',
    {
      ...t,
      kind: 'command',
      command: ['/bin/check'],
      timeoutSeconds: 5,
      compliantExitCodes: [0, 3],
    },
    { kind: 'command', result: { outcome: 'exited', exitCode: 3, output: 'warnings: 2' } },
    'Compliant',
    /\/bin\/check exited with 3, as expected; output: warnings: 2$/,
  ],
  [
    'command timed out',
    { ...t, kind: 'command', command: ['/bin/check'], timeoutSeconds: 5, compliantExitCodes: [0] },
    { kind: 'command', result: { outcome: 'timedOut', seconds: 5, output: 'scanning /' } },
    'NonCompliant',
    /did not finish within 5 seconds and was stopped; output: scanning \/$/,
  ],
  [
    'command refused',
    { ...t, kind: 'command', command: ['/bin/check'], timeoutSeconds: 5, compliantExitCodes: [0] },
    { kind: 'command', result: { outcome: 'refused', reason: 'no mount namespace' } },
    'NonCompliant',
    /was not run: no mount namespace/,
  ],
];

void describe('evaluateRule', () => {
  for (const [what, rule, facts, status, phrase] of ROWS) {
    void test(what, () => {
      const result = evaluateRule(rule, facts);
      assert.equal(result.complianceStatus, status, JSON.stringify(result.reasons));
      assert.match(result.reasons.map((r) => r.phrase).join('\n'), phrase);
      assert.equal(result.id, 'r');
    });
  }
});
