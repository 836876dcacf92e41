// The rule engine: judges one rule from the facts gathered for it. Pure — no I/O, no clock.
import type { GuestConfigurationRule, RuleResult } from '@tether/protocol';
import { evaluateAccountsRule } from './accounts-rule.js';
import { evaluateCommandRule } from './command-rule.js';
import { evaluateConfigKeyRule, evaluateKernelParameterRule } from './config-key-rule.js';
import { evaluateFileRule } from './file-rule.js';
import { evaluatePackageRule } from './package-rule.js';
import type { RuleFacts } from './rule-facts.js';
import type { RuleOutcome } from './rule-outcome.js';
import { evaluateSystemdUnitRule } from './systemd-unit-rule.js';

export function evaluateRule(rule: GuestConfigurationRule, facts: RuleFacts): RuleResult {
  return { id: rule.id, ...outcome(rule, facts) };
}

function outcome(rule: GuestConfigurationRule, facts: RuleFacts): RuleOutcome {
  if (rule.kind !== facts.kind) {
    throw new Error(`facts for a ${facts.kind} rule given for ${rule.kind} rule ${rule.id}`);
  }
  switch (rule.kind) {
    case 'file':
      return evaluateFileRule(rule, (facts as Extract<RuleFacts, { kind: 'file' }>).file);
    case 'configKey':
      return evaluateConfigKeyRule(
        rule,
        (facts as Extract<RuleFacts, { kind: 'configKey' }>).config,
      );
    case 'kernelParameter':
      return evaluateKernelParameterRule(
        rule,
        (facts as Extract<RuleFacts, { kind: 'kernelParameter' }>).value,
      );
    case 'package':
      return evaluatePackageRule(
        rule,
        (facts as Extract<RuleFacts, { kind: 'package' }>).installed,
      );
    case 'accounts':
      return evaluateAccountsRule(rule, facts as Extract<RuleFacts, { kind: 'accounts' }>);
    case 'systemdUnit':
      return evaluateSystemdUnitRule(
        rule,
        (facts as Extract<RuleFacts, { kind: 'systemdUnit' }>).unit,
      );
    case 'command':
      return evaluateCommandRule(rule, (facts as Extract<RuleFacts, { kind: 'command' }>).result);
  }
}
