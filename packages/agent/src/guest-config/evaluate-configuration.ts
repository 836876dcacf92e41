// Evaluates a validated guest configuration on this server: gathers each rule's facts under the
// agent's root folder and judges them with the pure engine, into the report the service sends.
import type {
  CommandRule,
  GuestConfiguration,
  GuestConfigurationReport,
  GuestConfigurationRule,
  RuleResult,
} from '@tether/protocol';
import { evaluateRule } from './evaluate-rule.js';
import type { CommandOutcome, RuleFacts } from './rule-facts.js';
import { SystemFacts } from './system-facts.js';

export type CommandRunner = (rule: CommandRule) => Promise<CommandOutcome>;

export interface EvaluationOptions {
  /** AgentPaths.root: `/` on a server, a temporary folder in tests. */
  readonly root: string;
  /** Runs command rules confined; without one they are reported as not run. */
  readonly runCommand?: CommandRunner;
}

export async function evaluateConfiguration(
  configuration: GuestConfiguration,
  options: EvaluationOptions,
): Promise<GuestConfigurationReport> {
  const system = new SystemFacts(options.root);
  const rules: RuleResult[] = [];
  for (const rule of configuration.rules) {
    const facts =
      rule.kind === 'command'
        ? {
            kind: 'command' as const,
            result:
              options.runCommand === undefined
                ? ({ outcome: 'refused', reason: 'this evaluation runs no commands' } as const)
                : await options.runCommand(rule),
          }
        : gatherFacts(rule, system);
    rules.push(evaluateRule(rule, facts));
  }
  return {
    name: configuration.name,
    version: configuration.version,
    complianceStatus: rules.every((r) => r.complianceStatus === 'Compliant')
      ? 'Compliant'
      : 'NonCompliant',
    rules,
  };
}

/** The facts for every kind but `command`, which runs through a CommandRunner. */
export function gatherFacts(
  rule: Exclude<GuestConfigurationRule, CommandRule>,
  system: SystemFacts,
): RuleFacts {
  switch (rule.kind) {
    case 'file':
      return { kind: 'file', file: system.file(rule.path) };
    case 'configKey':
      return { kind: 'configKey', config: system.config(rule.path, rule.format) };
    case 'kernelParameter':
      return { kind: 'kernelParameter', value: system.kernelParameter(rule.name) };
    case 'package':
      return { kind: 'package', installed: system.installedPackages(rule.names) };
    case 'accounts':
      return {
        kind: 'accounts',
        passwd: system.text('/etc/passwd'),
        shadow: rule.check === 'noEmptyPasswords' ? system.text('/etc/shadow') : undefined,
        loginDefs: rule.check === 'passwordHashSha512' ? system.text('/etc/login.defs') : undefined,
      };
    case 'systemdUnit':
      return { kind: 'systemdUnit', unit: system.systemdUnit(rule.unit) };
  }
}
