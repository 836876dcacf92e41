// Setting a key the way its program reads it, table-driven: the effective line rewritten in place,
// or a new line where it takes effect, every other line kept.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ConfigKeyRule } from '@tether/protocol';
import { applyConfigEdit, planConfigKeyRemediation } from './config-key-remediation.js';
import type { ConfigLine } from './rule-facts.js';

const MAIN = '/etc/ssh/sshd_config';
const DROP_IN = '/etc/ssh/sshd_config.d/50-cloud.conf';

const rule = (extra: Partial<ConfigKeyRule>): ConfigKeyRule => ({
  id: 'r',
  title: 'rule',
  kind: 'configKey',
  path: MAIN,
  format: 'sshd',
  key: 'PermitRootLogin',
  expect: { equals: 'no' },
  ...extra,
});
const lines = (text: string, file = MAIN, from = 1): ConfigLine[] =>
  text.split('\n').map((t, i) => ({ file, line: from + i, text: t }));

/** [case, rule, the lines the program reads, file text to edit, edited text (or error)] */
const ROWS: [string, ConfigKeyRule, ConfigLine[], string, string | RegExp][] = [
  [
    'sshd: the first occurrence changes, comments and later lines stay',
    rule({}),
    lines('# keep me\nPermitRootLogin yes\nPermitRootLogin no\n'),
    '# keep me\nPermitRootLogin yes\nPermitRootLogin no\n',
    '# keep me\nPermitRootLogin no\nPermitRootLogin no\n',
  ],
  [
    'sshd: indentation, spelling of the key and "=" are kept',
    rule({}),
    lines('  permitrootlogin=yes\n'),
    '  permitrootlogin=yes\n',
    '  permitrootlogin=no\n',
  ],
  [
    'sshd: absent key goes before the first Match, never inside it',
    rule({}),
    lines('Port 22\n\nMatch User backup\n  PermitRootLogin yes\n'),
    'Port 22\n\nMatch User backup\n  PermitRootLogin yes\n',
    'Port 22\n\nPermitRootLogin no\nMatch User backup\n  PermitRootLogin yes\n',
  ],
  [
    'sshd: absent key is appended after the last setting when there is no Match',
    rule({ key: 'MaxAuthTries', expect: { atMost: 6 }, remediateTo: '4' }),
    lines('Port 22\n# end\n\n'),
    'Port 22\n# end\n\n',
    'Port 22\n# end\nMaxAuthTries 4\n\n',
  ],
  [
    'sshd: a value with spaces is quoted',
    rule({ key: 'Banner', expect: { matches: '^/etc/issue net$' }, remediateTo: '/etc/issue net' }),
    lines('Banner none\n'),
    'Banner none\n',
    'Banner "/etc/issue net"\n',
  ],
  [
    'login.defs: the last occurrence (the one in force) changes',
    rule({
      path: '/etc/login.defs',
      format: 'loginDefs',
      key: 'UMASK',
      expect: { equals: '077' },
    }),
    lines('UMASK 022\nUMASK\t027\n', '/etc/login.defs'),
    'UMASK 022\nUMASK\t027\n',
    'UMASK 022\nUMASK\t077\n',
  ],
  [
    'sysctl: key = value, appended when absent, file without a final newline',
    rule({
      path: '/etc/sysctl.conf',
      format: 'sysctl',
      key: 'net.ipv4.tcp_syncookies',
      expect: { equals: '1' },
    }),
    lines('; comment\nkernel.panic = 10', '/etc/sysctl.conf'),
    '; comment\nkernel.panic = 10',
    '; comment\nkernel.panic = 10\nnet.ipv4.tcp_syncookies = 1\n',
  ],
  [
    'the file changed since it was read: refused',
    rule({}),
    lines('PermitRootLogin yes\n'),
    '# someone else edited this\nPermitRootLogin yes\n',
    /changed while it was being remediated/,
  ],
];

void describe('planConfigKeyRemediation and applyConfigEdit', () => {
  for (const [name, r, read, text, expected] of ROWS) {
    void test(name, () => {
      const plan = planConfigKeyRemediation(r, { exists: true, lines: read });
      assert.equal(plan.plan, 'edit');
      if (plan.plan !== 'edit') return;
      if (typeof expected === 'string') {
        assert.equal(applyConfigEdit(text, plan.edit), expected);
      } else {
        assert.throws(() => applyConfigEdit(text, plan.edit), expected);
      }
    });
  }

  void test('sshd: a drop-in read first holds the effective line, so the drop-in is edited', () => {
    const read = [
      ...lines('PermitRootLogin yes', DROP_IN),
      ...lines('PermitRootLogin no\n', MAIN, 2),
    ];
    const plan = planConfigKeyRemediation(rule({}), { exists: true, lines: read });
    assert.ok(plan.plan === 'edit');
    assert.equal(plan.edit.file, DROP_IN);
    assert.equal(plan.reason.code, 'configKey.remediated');
    assert.match(plan.reason.phrase, /changed PermitRootLogin from "yes" to "no" in .*50-cloud/);
    assert.equal(applyConfigEdit('PermitRootLogin yes\n', plan.edit), 'PermitRootLogin no\n');
  });

  void test('sshd: when an Include brings in the Match, the key goes before the Include', () => {
    const read = [
      ...lines('Port 22'),
      ...lines('Match User x\n  PermitRootLogin yes', DROP_IN),
      ...lines('\n', MAIN, 3),
    ];
    const plan = planConfigKeyRemediation(rule({}), { exists: true, lines: read });
    assert.ok(plan.plan === 'edit');
    assert.equal(
      applyConfigEdit('Port 22\nInclude sshd_config.d/*.conf\n', plan.edit),
      'Port 22\nPermitRootLogin no\nInclude sshd_config.d/*.conf\n',
    );
  });

  const AUDIT_ONLY: [string, ConfigKeyRule, boolean, RegExp][] = [
    ['no value to write', rule({ expect: { atMost: 6 } }), true, /no value to set/],
    [
      'a remediateTo the rule would not accept',
      rule({ expect: { atMost: 6 }, remediateTo: '10' }),
      true,
      /"10" .* would not be compliant/,
    ],
    ['a missing file is never created', rule({}), false, /never creates files/],
  ];
  for (const [name, r, exists, phrase] of AUDIT_ONLY) {
    void test(`audit only: ${name}`, () => {
      const plan = planConfigKeyRemediation(
        r,
        exists ? { exists: true, lines: lines('Port 22') } : { exists: false },
      );
      assert.equal(plan.plan, 'auditOnly');
      assert.equal(plan.reason.code, 'configKey.notRemediated');
      assert.match(plan.reason.phrase, phrase);
    });
  }
});
