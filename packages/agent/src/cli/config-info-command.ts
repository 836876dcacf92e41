// `azcmagent config info [property]`: what each property means, its default and what it accepts.
import { resolvePropertyName } from '../config/property-table.js';
import { allProperties, propertyDefinition } from '../config/property-values.js';
import type { CommandContext, CommandSpec } from './command-module.js';
import { formatPropertyInfo, propertyInfoJson } from './config-view.js';
import { printJson } from './print-json.js';

export const spec: CommandSpec = {
  usage: 'config info [property]',
  summary: 'Describe the configuration properties and the values they accept.',
  flags: [],
  positionals: { min: 0, max: 1 },
  examples: ['azcmagent config info', 'azcmagent config info extensions.allowlist'],
};

export function run(context: CommandContext): number {
  const wanted = context.positionals[0];
  const properties =
    wanted === undefined ? allProperties() : [propertyDefinition(resolvePropertyName(wanted))];
  if (context.json) printJson(context, { Properties: properties.map(propertyInfoJson) });
  else context.out.stdout(`${properties.map(formatPropertyInfo).join('\n\n')}\n`);
  return 0;
}
