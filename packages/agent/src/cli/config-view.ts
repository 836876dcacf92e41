// How `config list`, `config get` and `config info` show settings: aligned `name : value`
// lines for people (the layout of SPEC §4) and `{"Key", "Value"}` records for scripts.
import { formatExtensionName, isAllowNone, type ExtensionName } from '@tether/protocol';
import type { LocalConfig } from '../config/local-config.js';
import {
  allProperties,
  formatValue,
  toJsonValue,
  type AnyProperty,
} from '../config/property-values.js';
import { effectiveSettings, type EffectiveSettings } from '../effective-settings.js';

/** `config list` aligns every colon at column 56. */
const NAME_WIDTH = 54;

export function line(name: string, value: string): string {
  return `  ${name.padEnd(NAME_WIDTH)}: ${value}`.trimEnd();
}

export function settingsRecords(config: LocalConfig): { Key: string; Value: unknown }[] {
  return allProperties().map((p) => ({ Key: p.name, Value: toJsonValue(p, config[p.name]) }));
}

export function formatConfigList(config: LocalConfig): string {
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

export function configListJson(config: LocalConfig): unknown {
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

export function formatPropertyInfo(property: AnyProperty): string {
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

export function propertyInfoJson(property: AnyProperty): unknown {
  return {
    Name: property.name,
    Type: property.type,
    Default: toJsonValue(property, property.defaultValue),
    Description: property.description,
    AcceptedValues: property.accepted,
    ManagedByMonitorMode: property.modeGoverned,
  };
}
