// Shorthand for the sshd_config settings the built-in configurations check.
import type { ConfigKeyRule, ValueExpectation } from '@tether/protocol';

export function sshdKey(
  id: string,
  title: string,
  key: string,
  expect: ValueExpectation,
  extra: { default?: string; remediateTo?: string } = {},
): ConfigKeyRule {
  return {
    id,
    title,
    kind: 'configKey',
    path: '/etc/ssh/sshd_config',
    format: 'sshd',
    key,
    expect,
    ...extra,
  };
}
