// The pure rules of `config set` and `config clear`: validate the request against the current
// stored settings and return the new ones, or throw a specific error and change nothing.
import { AgentError } from '../errors.js';
import type { StoredConfig } from './local-config.js';
import { resolvePropertyName } from './property-table.js';
import { formatValue, propertyDefinition, type AnyProperty } from './property-values.js';

export type ListAction = 'replace' | 'add' | 'remove';

export interface ConfigChange {
  readonly stored: StoredConfig;
  /** One line for the administrator, e.g. `Config property … set to value …`. */
  readonly message: string;
  readonly warnings: readonly string[];
}

export function applySet(
  current: StoredConfig,
  propertyText: string,
  valueText: string,
  action: ListAction,
): ConfigChange {
  const name = resolvePropertyName(propertyText);
  const property = propertyDefinition(name);
  if (property.kind === 'scalar' && action !== 'replace') {
    throw new AgentError(
      'ERR_LIST_FLAG_ON_SCALAR',
      `--${action} only works with list properties, and ${name} holds a single value. Run 'azcmagent config set ${name} <value>' without --${action}.`,
      { target: name },
    );
  }
  refuseInMonitorMode(current, property);
  if (valueText.trim() === '') {
    throw new AgentError(
      'ERR_INVALID_VALUE',
      `No value given for ${name}. To return it to its default, run 'azcmagent config clear ${name}'.`,
      { target: name },
    );
  }
  const value =
    property.kind === 'scalar'
      ? property.parse(valueText)
      : changeList(current, property, valueText, action);
  const stored = { ...current, [name]: value };
  const warnings: string[] = [];
  if (name === 'extensions.allowlist' && (value as readonly unknown[]).length === 0) {
    warnings.push(emptyAllowlistWarning);
  }
  return {
    stored,
    message: `Config property ${name} set to value ${formatValue(property, value)}`,
    warnings,
  };
}

export function applyClear(current: StoredConfig, propertyText: string | undefined): ConfigChange {
  if (propertyText === undefined) {
    if (current['config.mode'] === 'monitor') {
      throw monitorModeLocked(
        'config clear without a property',
        'would reset the extension allowlist and blocklist',
      );
    }
    const warnings =
      (current['extensions.allowlist']?.length ?? 0) > 0 ? [emptyAllowlistWarning] : [];
    return {
      stored: {},
      message: 'All config properties cleared to their default values',
      warnings,
    };
  }
  const name = resolvePropertyName(propertyText);
  const property = propertyDefinition(name);
  refuseInMonitorMode(current, property);
  const stored: Record<string, unknown> = { ...current };
  delete stored[name];
  const hadAllowlist = name === 'extensions.allowlist' && (current[name]?.length ?? 0) > 0;
  return {
    stored,
    message: `Config property ${name} cleared to its default value ${formatValue(property, property.defaultValue) || '(none)'}`,
    warnings: hadAllowlist ? [emptyAllowlistWarning] : [],
  };
}

const emptyAllowlistWarning =
  'Warning: extensions.allowlist is now empty, so every extension not in extensions.blocklist may be installed.';

function changeList(
  current: StoredConfig,
  property: Extract<AnyProperty, { kind: 'list' }>,
  valueText: string,
  action: ListAction,
): readonly unknown[] {
  const given = dedupe(
    property,
    splitEntries(valueText).map((entry) => property.parseItem(entry)),
  );
  const existing = (current[property.name] ?? property.defaultValue) as readonly unknown[];
  let next: unknown[];
  switch (action) {
    case 'replace':
      next = given;
      break;
    case 'add':
      next = dedupe(property, [...existing, ...given]);
      break;
    case 'remove': {
      const missing = given.filter((item) => !existing.some((e) => property.sameItem(e, item)));
      if (missing.length > 0) {
        throw new AgentError(
          'ERR_VALUE_NOT_IN_LIST',
          `Cannot remove ${missing.map((m) => property.formatItem(m)).join(', ')} from ${property.name}: not in the list ${formatValue(property, existing)}.`,
          { target: property.name },
        );
      }
      next = existing.filter((item) => !given.some((g) => property.sameItem(g, item)));
      break;
    }
  }
  property.checkList(next);
  return Object.freeze(next);
}

/** Each entry is validated by the property's own parser, which names the bad entry. */
function splitEntries(text: string): string[] {
  const entries = text.split(',');
  if (entries.length > 1 && entries.some((entry) => entry.trim() === '')) {
    throw new AgentError(
      'ERR_INVALID_VALUE',
      `Invalid list "${text}": it has an empty entry; separate entries with single commas.`,
    );
  }
  return entries;
}

function dedupe(property: Extract<AnyProperty, { kind: 'list' }>, items: unknown[]): unknown[] {
  return items.filter(
    (item, index) => items.findIndex((o) => property.sameItem(o, item)) === index,
  );
}

function refuseInMonitorMode(current: StoredConfig, property: AnyProperty): void {
  if (current['config.mode'] === 'monitor' && property.modeGoverned) {
    throw monitorModeLocked(property.name, 'is managed by monitor mode');
  }
}

function monitorModeLocked(subject: string, why: string): AgentError {
  return new AgentError(
    'ERR_MONITOR_MODE_LOCKED',
    `The agent is in monitor mode, and ${subject} ${why}, so it cannot be changed now. ` +
      "Switch to full mode first with 'azcmagent config set config.mode full'; your own allowlist and blocklist are kept and come back in full mode.",
    { target: subject },
  );
}
