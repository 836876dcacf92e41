// What a configuration write changes, property by property, as `config get` shows the values:
// the old → new pairs the audit journal records. Pure.
import { maskProxyUrl } from '../network/proxy-route.js';
import type { StoredConfig } from './local-config.js';
import type { LoadedConfig } from './local-config-file.js';
import { PROPERTY_NAMES } from './property-table.js';
import { formatValue, propertyDefinition } from './property-values.js';

export interface PropertyChange {
  readonly property: string;
  readonly oldValue: string;
  readonly newValue: string;
}

/** A damaged file has no old values to name: its repair is one change of every property. */
export const DAMAGED_FILE_CHANGE: PropertyChange = Object.freeze({
  property: '*',
  oldValue: '(damaged localconfig.json)',
  newValue: '(all defaults)',
});

/** Only properties whose value in force changes; setting a property to its default is none. */
export function propertyChanges(loaded: LoadedConfig, next: StoredConfig): PropertyChange[] {
  if (loaded.state === 'corrupt') return [DAMAGED_FILE_CHANGE];
  const changes: PropertyChange[] = [];
  for (const name of PROPERTY_NAMES) {
    const property = propertyDefinition(name);
    // config set refuses credentials in proxy.url; masked all the same, since this leaves the machine.
    const shown = (value: unknown): string => {
      const text = formatValue(property, value ?? property.defaultValue);
      return name === 'proxy.url' ? maskProxyUrl(text) : text;
    };
    const oldValue = shown(loaded.stored[name]);
    const newValue = shown(next[name]);
    if (oldValue !== newValue) changes.push({ property: name, oldValue, newValue });
  }
  return changes;
}
