// `azcmagent version`: the version of the installed agent.
import { AGENT_VERSION } from '../version.js';
import type { CommandContext, CommandSpec } from './command-module.js';

export const spec: CommandSpec = {
  usage: 'version',
  summary: 'Print the agent version.',
  flags: [],
  positionals: { min: 0, max: 0 },
};

export function run(context: CommandContext): number {
  if (context.json) context.printJson({ Version: AGENT_VERSION });
  else context.out.stdout(`azcmagent version ${AGENT_VERSION}\n`);
  return 0;
}
