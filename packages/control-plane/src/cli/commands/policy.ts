// `tether policy`: definitions, initiatives, assignments, exemptions and compliance states, with
// `az policy`'s verbs and flags. Each subgroup lives in its own module.
import type { Command } from 'commander';
import { processCliDeps, type CliDeps } from '../client/cli-deps.js';
import { configureGroup } from '../client/command-kit.js';
import { registerPolicyAssignments } from './policy-assignment.js';
import { registerPolicyDefinitions } from './policy-definition.js';
import { registerPolicyExemptions } from './policy-exemption.js';
import { registerPolicyStates } from './policy-state.js';

export function register(program: Command, deps: CliDeps = processCliDeps()): void {
  const policy = configureGroup(program.command('policy'), deps).description(
    'Policy: definitions, initiatives, assignments, exemptions and compliance (az policy).',
  );
  registerPolicyDefinitions(policy, deps);
  registerPolicyAssignments(policy, deps);
  registerPolicyExemptions(policy, deps);
  registerPolicyStates(policy, deps);
}
