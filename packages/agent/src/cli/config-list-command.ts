// `azcmagent config list`: every property with its value, then what is in force after the mode.
import type { CommandContext, CommandSpec } from './command-module.js';
import { configListJson, formatConfigList } from './config-view.js';
import { printJson } from './print-json.js';
import { readConfigOrFail } from './read-config.js';

export const spec: CommandSpec = {
  usage: 'config list',
  summary: 'List every configuration property with its value, the agent mode and what is in force.',
  flags: [],
  positionals: { min: 0, max: 0 },
  examples: ['azcmagent config list', 'azcmagent config list --json'],
};

export function run(context: CommandContext): number {
  const { settings } = readConfigOrFail(context);
  if (context.json) printJson(context, configListJson(settings));
  else context.out.stdout(formatConfigList(settings));
  return 0;
}
