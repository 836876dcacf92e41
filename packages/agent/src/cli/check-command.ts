// `azcmagent check`: runs every check group and prints pass/warn/fail lines or JSON; the exit
// status is non-zero only when a check fails.
import type { CheckGroup, CheckResult, CheckStatus } from '../checks/check.js';
import { lockdownChecks } from '../checks/lockdown-checks.js';
import { loadLocalConfig } from '../config/local-config-file.js';
import type { CommandContext, CommandSpec } from './command-module.js';

export const spec: CommandSpec = {
  usage: 'check',
  summary: 'Check the lock-down best practices of the local security settings.',
  details:
    'Checks that an allowlist rather than only a blocklist is in force, that no custom script\nextension can be installed, and that guest configuration is disabled. Warnings are advice;\nthe exit status is non-zero only when a check fails (for example a damaged localconfig.json).',
  flags: [],
  positionals: { min: 0, max: 0 },
  examples: ['azcmagent check', 'azcmagent check --json'],
};

const GROUPS: readonly CheckGroup[] = [lockdownChecks];

const LABEL: { readonly [S in CheckStatus]: { text: string; color: string } } = {
  pass: { text: 'PASS', color: '\u001b[32m' },
  warn: { text: 'WARN', color: '\u001b[33m' },
  fail: { text: 'FAIL', color: '\u001b[31m' },
};

export async function run(context: CommandContext): Promise<number> {
  const paths = context.paths();
  const loaded = loadLocalConfig(paths);
  const results: { group: string; result: CheckResult }[] = [];
  for (const group of GROUPS) {
    for (const result of await group.run({ paths, loaded }))
      results.push({ group: group.title, result });
  }
  const count = (status: CheckStatus): number =>
    results.filter((r) => r.result.status === status).length;
  const summary = { Pass: count('pass'), Warn: count('warn'), Fail: count('fail') };
  if (context.json) {
    context.printJson({
      Checks: results.map(({ group, result }) => ({
        Group: group,
        Id: result.id,
        Title: result.title,
        Status: result.status,
        Detail: result.detail,
      })),
      Summary: summary,
    });
  } else {
    const lines: string[] = [];
    for (const group of GROUPS) {
      lines.push(group.title);
      for (const { result } of results.filter((r) => r.group === group.title)) {
        const label = LABEL[result.status];
        const status = context.color ? `${label.color}${label.text}\u001b[0m` : label.text;
        lines.push(`  ${status}  ${result.title}: ${result.detail}`);
      }
    }
    lines.push('', `${summary.Pass} passed, ${summary.Warn} warnings, ${summary.Fail} failed`);
    context.out.stdout(`${lines.join('\n')}\n`);
  }
  return summary.Fail > 0 ? 1 : 0;
}
