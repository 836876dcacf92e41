// Evaluates a validated guest configuration on this server: gathers each rule's facts under the
// agent's root folder and judges them with the pure engine, into the report the service sends;
// for remediating assignment types it first brings non-compliant rules into line and re-judges
// (ApplyAndAutoCorrect every time, ApplyAndMonitor until applied once, then it reports drift).
import type {
  AssignmentType,
  CommandRule,
  GuestConfiguration,
  GuestConfigurationReport,
  GuestConfigurationRule,
  RuleResult,
} from '@tether/protocol';
import { evaluateRule } from './evaluate-rule.js';
import { remediateRule } from './remediate-rule.js';
import type { CommandOutcome, RuleFacts } from './rule-facts.js';
import { SystemFacts } from './system-facts.js';

export type CommandRunner = (rule: CommandRule) => Promise<CommandOutcome>;

export interface EvaluationOptions {
  /** AgentPaths.root: `/` on a server, a temporary folder in tests. */
  readonly root: string;
  /** Runs command rules confined; without one they are reported as not run. */
  readonly runCommand?: CommandRunner;
  /**
   * `Audit` (the default) only reads; `ApplyAndAutoCorrect` remediates at every evaluation;
   * `ApplyAndMonitor` remediates until it has been applied once, then only reports drift.
   */
  readonly assignmentType?: AssignmentType;
  /** ApplyAndMonitor: this version of the assignment was applied before. */
  readonly applied?: boolean;
}

/** The reason beside a rule that drifted after an ApplyAndMonitor assignment was applied. */
export const DRIFT_NOT_CORRECTED = {
  code: 'applyAndMonitor.driftNotCorrected',
  phrase:
    'ApplyAndMonitor applied this configuration once and now only reports drift; it is corrected when the assignment changes, or at every evaluation with ApplyAndAutoCorrect',
} as const;

/** Whether this evaluation brings non-compliant rules into line. */
export function remediates(assignmentType: AssignmentType, applied: boolean): boolean {
  return (
    assignmentType === 'ApplyAndAutoCorrect' || (assignmentType === 'ApplyAndMonitor' && !applied)
  );
}

export async function evaluateConfiguration(
  configuration: GuestConfiguration,
  options: EvaluationOptions,
): Promise<GuestConfigurationReport> {
  const type = options.assignmentType ?? 'Audit';
  const remediate = remediates(type, options.applied ?? false);
  const monitoring = type === 'ApplyAndMonitor' && !remediate;
  let system = new SystemFacts(options.root);
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
    const audited = evaluateRule(rule, facts);
    if (monitoring && audited.complianceStatus !== 'Compliant' && rule.kind !== 'command') {
      rules.push({ ...audited, reasons: [...audited.reasons, DRIFT_NOT_CORRECTED] });
      continue;
    }
    if (!remediate || audited.complianceStatus === 'Compliant') {
      rules.push(audited);
      continue;
    }
    const remediation = remediateRule(rule, facts, system, options.root);
    if (!remediation.changed) {
      rules.push({ ...audited, reasons: [...audited.reasons, remediation.reason] });
      continue;
    }
    if (rule.kind === 'command') throw new Error(`command rule ${rule.id} cannot be remediated`);
    // What was read before the write is stale for this rule and every later one.
    system = new SystemFacts(options.root);
    const after = evaluateRule(rule, gatherFacts(rule, system));
    rules.push({ ...after, reasons: [...remediation.reasons, ...after.reasons] });
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
