// `azcmagent check`: runs every check group and prints pass/warn/fail lines or JSON; the exit
// status is non-zero only when a check fails.
import type { CheckGroup, CheckResult, CheckStatus } from '../checks/check.js';
import { controlPlaneChecks } from '../checks/control-plane-checks.js';
import { keyProtectionChecks } from '../checks/key-protection-checks.js';
import { lockdownChecks } from '../checks/lockdown-checks.js';
import { systemClock } from '../clock.js';
import { loadLocalConfig } from '../config/local-config-file.js';
import type { CommandContext, CommandSpec } from './command-module.js';

export const spec: CommandSpec = {
  usage: 'check',
  summary: 'Check the local security settings, the control plane connection and the key.',
  details:
    'Checks that an allowlist rather than only a blocklist is in force, that no custom script\nextension can be installed, and that guest configuration is disabled; that the control plane\nanswers over TLS verified with the saved CA and that the clocks agree within 5 minutes; that\nthe machine key is owned by himds with mode 0600 and that / is on dm-crypt. Warnings are\nadvice; the exit status is non-zero only when a check fails (for example a damaged\nlocalconfig.json or an unreachable control plane).',
  flags: [],
  positionals: { min: 0, max: 0 },
  examples: ['azcmagent check', 'azcmagent check --json'],
};

const GROUPS: readonly CheckGroup[] = [lockdownChecks, controlPlaneChecks, keyProtectionChecks];

const LABEL: { readonly [S in CheckStatus]: { text: string; color: string } } = {
  pass: { text: 'PASS', color: '\u001b[32m' },
  warn: { text: 'WARN', color: '\u001b[33m' },
  fail: { text: 'FAIL', color: '\u001b[31m' },
  unknown: { text: 'UNKNOWN', color: '\u001b[35m' },
  skip: { text: 'SKIP', color: '\u001b[2m' },
};

export async function run(context: CommandContext): Promise<number> {
  const paths = context.paths();
  const loaded = loadLocalConfig(paths);
  const results: { group: string; result: CheckResult }[] = [];
  for (const group of GROUPS) {
    for (const result of await group.run({ paths, systemRoot: '/', loaded, clock: systemClock }))
      results.push({ group: group.title, result });
  }
  const count = (status: CheckStatus): number =>
    results.filter((r) => r.result.status === status).length;
  const summary = {
    Pass: count('pass'),
    Warn: count('warn'),
    Fail: count('fail'),
    Unknown: count('unknown'),
    Skip: count('skip'),
  };
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
    lines.push(
      '',
      `${summary.Pass} passed, ${summary.Warn} warnings, ${summary.Fail} failed, ${summary.Unknown} unknown, ${summary.Skip} skipped`,
    );
    context.out.stdout(`${lines.join('\n')}\n`);
  }
  return summary.Fail > 0 ? 1 : 0;
}
