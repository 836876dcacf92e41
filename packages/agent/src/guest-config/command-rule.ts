// Judges a `command` rule from how its confined run ended. Pure.
import type { CommandRule } from '@tether/protocol';
import type { CommandOutcome } from './rule-facts.js';
import { compliant, nonCompliant, type RuleOutcome } from './rule-outcome.js';

export function evaluateCommandRule(rule: CommandRule, result: CommandOutcome): RuleOutcome {
  const program = rule.command[0] ?? '';
  switch (result.outcome) {
    case 'refused':
      return nonCompliant('command.refused', `${program} was not run: ${result.reason}`);
    case 'timedOut':
      return nonCompliant(
        'command.timeout',
        `${program} did not finish within ${result.seconds} seconds and was stopped${tail(result.output)}`,
      );
    case 'exited': {
      const expected = rule.compliantExitCodes.join(' or ');
      return rule.compliantExitCodes.includes(result.exitCode)
        ? compliant(
            'command.exitCode',
            `${program} exited with ${result.exitCode}, as expected${tail(result.output)}`,
          )
        : nonCompliant(
            'command.exitCode',
            `${program} exited with ${result.exitCode}; expected ${expected}${tail(result.output)}`,
          );
    }
  }
}

/** The end of what the command printed, already bounded by the runner. */
function tail(output: string): string {
  return output === '' ? '' : `; output: ${output}`;
}
