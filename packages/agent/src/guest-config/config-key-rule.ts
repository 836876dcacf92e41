// Judges a `configKey` rule (a setting in an sshd_config, login.defs or sysctl.conf style file)
// and a `kernelParameter` rule (the live value under /proc/sys). Pure.
import type { ConfigKeyRule, KernelParameterRule } from '@tether/protocol';
import { findConfigValue } from './config-file-value.js';
import type { ConfigFacts, FileText } from './rule-facts.js';
import { compliant, nonCompliant, type RuleOutcome } from './rule-outcome.js';
import { describeExpectation, meetsExpectation } from './value-expectation.js';

export function evaluateConfigKeyRule(rule: ConfigKeyRule, config: ConfigFacts): RuleOutcome {
  const expected = describeExpectation(rule.expect);
  const found = config.exists ? findConfigValue(rule.format, config.lines, rule.key) : undefined;
  if (found !== undefined) {
    const where = `${found.at.file} line ${found.at.line}`;
    return meetsExpectation(rule.expect, found.value)
      ? compliant('configKey.value', `${rule.key} is "${found.value}" in ${where}, as expected`)
      : nonCompliant(
          'configKey.value',
          `${rule.key} is "${found.value}" in ${where}; expected ${expected}`,
        );
  }
  const absent = config.exists
    ? `${rule.key} is not set in ${rule.path}`
    : `${rule.path} does not exist`;
  if (rule.default === undefined) {
    return nonCompliant('configKey.missing', `${absent}; expected ${expected}`);
  }
  return meetsExpectation(rule.expect, rule.default)
    ? compliant(
        'configKey.default',
        `${absent}, so the default "${rule.default}" applies, as expected`,
      )
    : nonCompliant(
        'configKey.default',
        `${absent}, so the default "${rule.default}" applies; expected ${expected}`,
      );
}

export function evaluateKernelParameterRule(
  rule: KernelParameterRule,
  value: FileText,
): RuleOutcome {
  const expected = describeExpectation(rule.expect);
  if (value === undefined) {
    return nonCompliant(
      'kernelParameter.missing',
      `kernel parameter ${rule.name} does not exist on this kernel; expected ${expected}`,
    );
  }
  // /proc/sys separates the numbers of a vector value with tabs.
  const live = value.trim().replace(/\s+/g, ' ');
  return meetsExpectation(rule.expect, live)
    ? compliant('kernelParameter.value', `kernel parameter ${rule.name} is "${live}", as expected`)
    : nonCompliant(
        'kernelParameter.value',
        `kernel parameter ${rule.name} is "${live}"; expected ${expected}`,
      );
}
