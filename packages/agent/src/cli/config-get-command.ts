// `azcmagent config get <property>`: one property's value as stored (defaults when unset).
import { resolvePropertyName } from '../config/property-table.js';
import { formatValue, propertyDefinition, toJsonValue } from '../config/property-values.js';
import type { CommandContext, CommandSpec } from './command-module.js';
import { printJson } from './print-json.js';
import { readConfigOrFail } from './read-config.js';

export const spec: CommandSpec = {
  usage: 'config get <property>',
  summary: "Print a configuration property's value.",
  flags: [],
  positionals: { min: 1, max: 1 },
  examples: [
    'azcmagent config get config.mode',
    'azcmagent config get extensions.allowlist --json',
  ],
};

export function run(context: CommandContext): number {
  const name = resolvePropertyName(context.positionals[0] ?? '');
  const property = propertyDefinition(name);
  const { settings } = readConfigOrFail(context);
  const value = settings[name];
  if (context.json) printJson(context, { Key: name, Value: toJsonValue(property, value) });
  else context.out.stdout(`${formatValue(property, value)}\n`);
  return 0;
}
