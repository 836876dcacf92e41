// How the service runs a loaded configuration on this server: the engine under the agent's root,
// told the assignment type — Audit only reads; ApplyAndAutoCorrect first brings what can be
// remediated into line (never under the agent's folders), then judges again; ApplyAndMonitor does
// so until it has been applied once, then reports drift without correcting it.
import { resolve } from 'node:path';
import { createConfinedCommandRunner } from '../confined-command-runner.linux.js';
import { evaluateConfiguration, type CommandRunner } from '../evaluate-configuration.js';
import type { RunConfiguration } from './assignment-evaluator.js';

export function engineRunner(root: string): RunConfiguration {
  const runCommand = commandRunnerFor(root);
  return (configuration, assignment, applied) =>
    evaluateConfiguration(configuration, {
      root,
      runCommand,
      assignmentType: assignment.assignmentType,
      applied,
    });
}

/**
 * Command rules run confined only when the agent's root is the server's own `/`: every other
 * rule reads under the root, but a command would act on the real machine, not on the files under
 * a test root, so there it is refused with that reason.
 */
export function commandRunnerFor(
  root: string,
  confined: () => CommandRunner = createConfinedCommandRunner,
): CommandRunner {
  if (resolve(root) === '/') return confined();
  const reason = `the agent's root is ${root}, not /, and a command would act on this machine rather than on the files under that root`;
  return () => Promise.resolve({ outcome: 'refused', reason });
}
