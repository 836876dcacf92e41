// Generic handling of property values through the property table: formatting for people,
// JSON for scripts and localconfig.json, and strict validation of what the file holds.
import type { LocalConfig, PropertyName } from './local-config.js';
import { PROPERTY_TABLE, type ListProperty, type ScalarProperty } from './property-table.js';

export type AnyProperty = ScalarProperty<unknown> | ListProperty<unknown>;

export function propertyDefinition(name: PropertyName): AnyProperty {
  return PROPERTY_TABLE[name];
}

export function allProperties(): AnyProperty[] {
  return Object.values(PROPERTY_TABLE);
}

/** Lists print as `[a, b]`, the way `config list` shows an empty list as `[]`. */
export function formatValue(property: AnyProperty, value: unknown): string {
  if (property.kind === 'scalar') return property.format(value);
  return `[${(value as readonly unknown[]).map((item) => property.formatItem(item)).join(', ')}]`;
}

export function toJsonValue(property: AnyProperty, value: unknown): unknown {
  if (property.kind === 'scalar') return value;
  return (value as readonly unknown[]).map((item) => property.toJsonItem(item));
}

export function valueOf(config: LocalConfig, name: PropertyName): unknown {
  return config[name];
}

/**
 * Validates one value read from localconfig.json with the same parsers `config set` uses, so
 * the file can never hold something the command would have refused. Throws a reason.
 */
export function fromStoredValue(property: AnyProperty, json: unknown): unknown {
  if (property.kind === 'scalar') {
    if (typeof json !== property.jsonType) {
      throw new Error(`${property.name} must be a JSON ${property.jsonType}`);
    }
    const value = property.parse(String(json));
    if (value !== json) throw new Error(`${property.name} is not in canonical form`);
    return value;
  }
  if (!Array.isArray(json)) throw new Error(`${property.name} must be a JSON array`);
  const items = json.map((item: unknown) => {
    if (typeof item !== property.itemJsonType) {
      throw new Error(`${property.name} entries must be JSON ${property.itemJsonType}s`);
    }
    return property.parseItem(String(item));
  });
  items.forEach((item, index) => {
    if (items.findIndex((other) => property.sameItem(other, item)) !== index) {
      throw new Error(`${property.name} lists ${property.formatItem(item)} twice`);
    }
  });
  property.checkList(items);
  return Object.freeze(items);
}
