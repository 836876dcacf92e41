// Guest configuration validation: every rule kind accepted as documented, and every bad field
// refused with a message naming the configuration, the rule and the field.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseGuestConfiguration } from './parse-guest-configuration.js';
import { isTetherError } from './tether-error.js';

const valid = {
  name: 'Sample',
  version: '1.0.0',
  rules: [
    {
      id: '5.2.1',
      title: 'sshd_config is owned by root',
      kind: 'file',
      path: '/etc/ssh/sshd_config',
      owner: 'root',
      maxMode: '600',
    },
    {
      id: '106.7',
      title: 'MaxAuthTries',
      kind: 'configKey',
      path: '/etc/ssh/sshd_config',
      format: 'sshd',
      key: 'MaxAuthTries',
      expect: { atMost: 6 },
      default: '6',
      remediateTo: '4',
    },
    {
      id: '47',
      title: 'syncookies',
      kind: 'kernelParameter',
      name: 'net.ipv4.tcp_syncookies',
      expect: { equals: '1' },
    },
    { id: '73', title: 'no telnet', kind: 'package', names: ['telnetd'], installed: false },
    { id: '24', title: 'root only uid 0', kind: 'accounts', check: 'onlyRootUid0' },
    {
      id: 'u1',
      title: 'no telnet socket',
      kind: 'systemdUnit',
      unit: 'telnet.socket',
      enabled: false,
    },
    { id: 'c1', title: 'custom', kind: 'command', command: ['/usr/bin/test', '-f', '/etc/motd'] },
  ],
};

function withRule(rule: Record<string, unknown>): unknown {
  return { ...valid, rules: [rule] };
}

const base = { id: 'r1', title: 'a rule' };

void describe('parseGuestConfiguration', () => {
  void test('accepts every rule kind, filling in command defaults and padding modes', () => {
    const parsed = parseGuestConfiguration(valid);
    assert.equal(parsed.rules.length, 7);
    assert.equal(parsed.rules[0]?.kind === 'file' && parsed.rules[0].maxMode, '0600');
    const command = parsed.rules[6];
    assert.ok(command?.kind === 'command');
    assert.equal(command.timeoutSeconds, 60);
    assert.deepEqual(command.compliantExitCodes, [0]);
    assert.ok(Object.isFrozen(parsed.rules[1]));
  });

  void test('normalizes a path with .. before checking it', () => {
    const parsed = parseGuestConfiguration(
      withRule({ ...base, kind: 'file', path: '/etc/ssh/../passwd' }),
    );
    assert.equal(parsed.rules[0]?.kind === 'file' && parsed.rules[0].path, '/etc/passwd');
  });

  const bad: [string, unknown, RegExp][] = [
    ['not an object', 'x', /is not a JSON object/],
    ['an unknown top-level field', { ...valid, extra: 1 }, /unknown field "extra"/],
    ['a bad version', { ...valid, version: 'one' }, /version "one"; expected dotted numbers/],
    ['no rules', { ...valid, rules: [] }, /needs "rules"/],
    [
      'an unknown kind',
      withRule({ ...base, kind: 'registry' }),
      /rule "r1" has kind "registry"; expected one of file, configKey/,
    ],
    [
      'an unknown field',
      withRule({ ...base, kind: 'file', path: '/etc/passwd', perms: '0644' }),
      /rule "r1" has the unknown field "perms"/,
    ],
    [
      'a bad mode',
      withRule({ ...base, kind: 'file', path: '/etc/passwd', mode: '0999' }),
      /rule "r1" field "mode" is "0999"; expected an octal mode/,
    ],
    [
      'a numeric mode',
      withRule({ ...base, kind: 'file', path: '/etc/passwd', mode: 644 }),
      /field "mode" is not a string/,
    ],
    [
      'a relative path',
      withRule({ ...base, kind: 'file', path: 'etc/passwd' }),
      /field "path" is "etc\/passwd"; expected an absolute path/,
    ],
    [
      "a file under the agent's folder",
      withRule({
        ...base,
        kind: 'file',
        path: '/var/opt/azcmagent/localconfig.json',
        mode: '0600',
      }),
      /under the agent's folder \/var\/opt\/azcmagent/,
    ],
    [
      "a config file reaching the agent's folder through ..",
      withRule({
        ...base,
        kind: 'configKey',
        path: '/etc/../var/lib/waagent/x.conf',
        format: 'sshd',
        key: 'A',
        expect: { equals: 'b' },
      }),
      /under the agent's folder \/var\/lib\/waagent/,
    ],
    [
      'a missing required field',
      withRule({ ...base, kind: 'configKey', path: '/etc/x', format: 'sshd', key: 'A' }),
      /rule "r1" needs the field "expect"/,
    ],
    [
      'two expectations',
      withRule({
        ...base,
        kind: 'kernelParameter',
        name: 'net.ipv4.ip_forward',
        expect: { equals: '0', atMost: 1 },
      }),
      /needs exactly one of equals, oneOf/,
    ],
    [
      'a bad regular expression',
      withRule({
        ...base,
        kind: 'kernelParameter',
        name: 'net.ipv4.ip_forward',
        expect: { matches: '(' },
      }),
      /not a valid regular expression/,
    ],
    [
      'an unknown config format',
      withRule({
        ...base,
        kind: 'configKey',
        path: '/etc/x',
        format: 'ini',
        key: 'A',
        expect: { equals: 'b' },
      }),
      /field "format" is "ini"; expected sshd, loginDefs or sysctl/,
    ],
    [
      'a command naming azcmagent',
      withRule({
        ...base,
        kind: 'command',
        command: ['/bin/sh', '-c', 'azcmagent config set x y'],
      }),
      /may not name azcmagent or the agent's folders/,
    ],
    [
      "a command naming the agent's folder in other casing",
      withRule({ ...base, kind: 'command', command: ['/bin/rm', '/VAR/LIB/GUESTCONFIG/x'] }),
      /may not name azcmagent/,
    ],
    [
      'a command with a relative program',
      withRule({ ...base, kind: 'command', command: ['sh', '-c', 'true'] }),
      /the program must be an absolute path/,
    ],
    [
      'a command timeout out of range',
      withRule({ ...base, kind: 'command', command: ['/bin/true'], timeoutSeconds: 0 }),
      /field "timeoutSeconds" is 0; expected a whole number from 1 to 600/,
    ],
    [
      'a repeated rule id',
      { ...valid, rules: [valid.rules[4], valid.rules[4]] },
      /rule "24" repeats an id/,
    ],
    [
      'a bad package name',
      withRule({ ...base, kind: 'package', names: ['Telnet Server'], installed: false }),
      /contains "Telnet Server", which is not a Debian package name/,
    ],
  ];
  for (const [what, input, message] of bad) {
    void test(`refuses ${what}`, () => {
      assert.throws(
        () => parseGuestConfiguration(input),
        (error: unknown) =>
          isTetherError(error) &&
          error.code === 'ERR_GUEST_CONFIGURATION_INVALID' &&
          message.test(error.message),
      );
    });
  }
});
