// Judges a `systemdUnit` rule from unit files and `*.wants` links, as `systemctl is-enabled`
// would answer without asking systemd. Pure.
import type { SystemdUnitRule } from '@tether/protocol';
import type { SystemdUnitFacts } from './rule-facts.js';
import { compliant, nonCompliant, type RuleOutcome } from './rule-outcome.js';

export function unitState(facts: SystemdUnitFacts): 'masked' | 'enabled' | 'disabled' | 'absent' {
  if (facts.masked) return 'masked';
  if (facts.unitFiles.length === 0) return 'absent';
  return facts.wantedBy.length > 0 ? 'enabled' : 'disabled';
}

export function evaluateSystemdUnitRule(
  rule: SystemdUnitRule,
  facts: SystemdUnitFacts,
): RuleOutcome {
  const state = unitState(facts);
  const found =
    state === 'enabled'
      ? `${rule.unit} is enabled (wanted by ${facts.wantedBy.join(', ')})`
      : state === 'absent'
        ? `${rule.unit} is not installed`
        : `${rule.unit} is ${state}`;
  const expected = rule.enabled ? 'enabled' : 'disabled';
  return (state === 'enabled') === rule.enabled
    ? compliant('systemdUnit.state', `${found}, as expected`)
    : nonCompliant('systemdUnit.state', `${found}; expected ${expected}`);
}
