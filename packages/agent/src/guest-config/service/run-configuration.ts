// How the service runs a loaded configuration on this server: the engine's evaluation under the
// agent's root. Audit only evaluates; the Apply types are where remediation comes in.
import type { GuestConfigurationGoalAssignment } from '@tether/protocol';
import { evaluateConfiguration } from '../evaluate-configuration.js';
import type { RunConfiguration } from './assignment-evaluator.js';

export function engineRunner(root: string, log: (line: string) => void): RunConfiguration {
  const warned = new Set<string>();
  return (configuration, assignment: GuestConfigurationGoalAssignment) => {
    if (assignment.assignmentType !== 'Audit' && !warned.has(assignment.name)) {
      // The engine's remediation is not available in this build: report, change nothing.
      warned.add(assignment.name);
      log(
        `${assignment.name}: ${assignment.assignmentType} is evaluated without remediation in this version; nothing on the server is changed`,
      );
    }
    return evaluateConfiguration(configuration, { root });
  };
}
