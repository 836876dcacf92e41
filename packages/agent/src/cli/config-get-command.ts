// `azcmagent config get <property>`: one property's value as stored (defaults when unset).
import { resolvePropertyName } from '../config/property-table.js';
import { formatValue, propertyDefinition, toJsonValue } from '../config/property-values.js';
import { loadLocalConfigOrThrow } from '../config/local-config-file.js';
import type { CommandContext, CommandSpec } from './command-module.js';

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
  const { settings } = loadLocalConfigOrThrow(context.paths());
  const value = settings[name];
  if (context.json) context.printJson({ Key: name, Value: toJsonValue(property, value) });
  else context.out.stdout(`${formatValue(property, value)}\n`);
  if (property.modeGoverned && settings['config.mode'] === 'monitor') {
    // The stored value is kept for full mode; say so rather than let it pass for what runs.
    context.out.stderr(
      `Note: monitor mode is in force and decides ${name}; this stored value returns in full mode. 'azcmagent config list' shows what is in force.\n`,
    );
  }
  return 0;
}
