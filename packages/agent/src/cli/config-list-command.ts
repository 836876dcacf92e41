// `azcmagent config list`: every property with its value as aligned `name : value` lines (the
// layout of SPEC §4) or `{"Key", "Value"}` records, then what is in force after the mode.
import { formatExtensionName, isAllowNone, type ExtensionName } from '@tether/protocol';
import { loadLocalConfigOrThrow } from '../config/local-config-file.js';
import type { LocalConfig } from '../config/local-config.js';
import { allProperties, formatValue, toJsonValue } from '../config/property-values.js';
import { effectiveSettings, type EffectiveSettings } from '../effective-settings.js';
import type { CommandContext, CommandSpec } from './command-module.js';

export const spec: CommandSpec = {
  usage: 'config list',
  summary: 'List every configuration property with its value, the agent mode and what is in force.',
  flags: [],
  positionals: { min: 0, max: 0 },
  examples: ['azcmagent config list', 'azcmagent config list --json'],
};

export function run(context: CommandContext): number {
  const { settings } = loadLocalConfigOrThrow(context.paths());
  if (context.json) context.printJson(configListJson(settings));
  else context.out.stdout(formatConfigList(settings));
  return 0;
}

/** `config list` aligns every colon at column 56. */
const NAME_WIDTH = 54;

function line(name: string, value: string): string {
  return `  ${name.padEnd(NAME_WIDTH)}: ${value}`.trimEnd();
}

function settingsRecords(config: LocalConfig): { Key: string; Value: unknown }[] {
  return allProperties().map((p) => ({ Key: p.name, Value: toJsonValue(p, config[p.name]) }));
}

function formatConfigList(config: LocalConfig): string {
  const effective = effectiveSettings(config);
  const lines = [
    'Local Configuration Settings',
    ...allProperties().map((p) => line(p.name, formatValue(p, config[p.name]))),
    '',
    'In Force (after the agent mode)',
    line('config.mode', effective.mode),
    line('extensions.enabled', String(effective.extensionsEnabled)),
    ...listLines('extensions.allowlist', allowlistText(effective)),
    ...listLines('extensions.blocklist', effective.blocklist.map(formatExtensionName)),
    line('guestconfiguration.enabled', String(effective.guestConfigurationEnabled)),
    line('incomingconnections.enabled', String(effective.incomingConnectionsEnabled)),
  ];
  return `${lines.join('\n')}\n`;
}

function configListJson(config: LocalConfig): unknown {
  const effective = effectiveSettings(config);
  const names = (list: readonly ExtensionName[] | null): string[] | null =>
    list === null ? null : list.map(formatExtensionName);
  return {
    LocalSettings: settingsRecords(config),
    EffectiveSettings: [
      { Key: 'config.mode', Value: effective.mode },
      { Key: 'extensions.enabled', Value: effective.extensionsEnabled },
      { Key: 'extensions.allowlist', Value: names(effective.allowlist) },
      { Key: 'extensions.blocklist', Value: names(effective.blocklist) },
      { Key: 'guestconfiguration.enabled', Value: effective.guestConfigurationEnabled },
      { Key: 'incomingconnections.enabled', Value: effective.incomingConnectionsEnabled },
    ],
  };
}

function allowlistText(effective: EffectiveSettings): string[] {
  if (!effective.extensionsEnabled)
    return ['(extension manager disabled: no extension operations run)'];
  if (effective.allowlist === null)
    return ['(none: every extension not in the blocklist is allowed)'];
  const entries = effective.allowlist.map(formatExtensionName);
  if (effective.allowlist.some(isAllowNone))
    return [`${entries.join(', ')} (no extension may be installed)`];
  return effective.mode === 'monitor'
    ? [...entries, '(vendor-managed monitor mode allowlist)']
    : entries;
}

/** One entry per line so long lists stay readable; an empty list prints `[]`. */
function listLines(name: string, entries: readonly string[]): string[] {
  if (entries.length === 0) return [line(name, '[]')];
  const indent = ' '.repeat(NAME_WIDTH + 4);
  return entries.map((entry, index) => (index === 0 ? line(name, entry) : `${indent}${entry}`));
}
