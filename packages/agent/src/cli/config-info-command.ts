// `azcmagent config info [property]`: what each property means, its default and what it accepts.
import { resolvePropertyName } from '../config/property-table.js';
import {
  allProperties,
  formatValue,
  propertyDefinition,
  toJsonValue,
  type AnyProperty,
} from '../config/property-values.js';
import type { CommandContext, CommandSpec } from './command-module.js';

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
  if (context.json) context.printJson({ Properties: properties.map(propertyInfoJson) });
  else context.out.stdout(`${properties.map(formatPropertyInfo).join('\n\n')}\n`);
  return 0;
}

function formatPropertyInfo(property: AnyProperty): string {
  const rows: [string, string][] = [
    ['Description', property.description],
    ['Type', property.type],
    ['Default', formatValue(property, property.defaultValue)],
    ['Accepted values', property.accepted],
  ];
  if (property.modeGoverned) {
    rows.push(['Monitor mode', 'set by the mode; cannot be changed until config.mode is full']);
  }
  return [property.name, ...rows.map(([k, v]) => `  ${k.padEnd(16)}: ${v}`)].join('\n');
}

function propertyInfoJson(property: AnyProperty): unknown {
  return {
    Name: property.name,
    Type: property.type,
    Default: toJsonValue(property, property.defaultValue),
    Description: property.description,
    AcceptedValues: property.accepted,
    ManagedByMonitorMode: property.modeGoverned,
  };
}
