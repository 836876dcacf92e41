// `azcmagent version`: the version of the installed agent.
import { agentVersion } from '../version.js';
import type { CommandContext, CommandSpec } from './command-module.js';

export const spec: CommandSpec = {
  usage: 'version',
  summary: 'Print the agent version.',
  flags: [],
  positionals: { min: 0, max: 0 },
};

export function run(context: CommandContext): number {
  const version = agentVersion();
  if (context.json) context.printJson({ Version: version });
  else context.out.stdout(`azcmagent version ${version}\n`);
  return 0;
}
