// How the service runs a loaded configuration on this server: the engine under the agent's root,
// told the assignment type — Audit only reads; ApplyAndMonitor and ApplyAndAutoCorrect first
// bring what can be remediated into line (never under the agent's folders), then judge again.
import { evaluateConfiguration } from '../evaluate-configuration.js';
import type { RunConfiguration } from './assignment-evaluator.js';

export function engineRunner(root: string): RunConfiguration {
  return (configuration, assignment) =>
    evaluateConfiguration(configuration, { root, assignmentType: assignment.assignmentType });
}
