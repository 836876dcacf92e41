// Policy parameters: a definition's declarations (`{name: {type, allowedValues, defaultValue,
// metadata}}`) and the values an assignment or a policy set gives them, checked by type and
// allowed values. Names are case-insensitive, as in Azure.
import { PolicyError } from './policy-error.js';
import type { ParameterScope } from './policy-expression.js';

export const PARAMETER_TYPES = [
  'String',
  'Array',
  'Object',
  'Boolean',
  'Integer',
  'Float',
  'DateTime',
] as const;
export type ParameterType = (typeof PARAMETER_TYPES)[number];

export interface ParameterDefinition {
  /** As declared. */
  readonly name: string;
  readonly type: ParameterType;
  readonly allowedValues: readonly unknown[] | undefined;
  readonly defaultValue: unknown;
  readonly hasDefault: boolean;
}

/** Declared parameters by lower-cased name. */
export class ParameterDefinitions implements ParameterScope {
  private constructor(private readonly byName: ReadonlyMap<string, ParameterDefinition>) {}

  static readonly none = new ParameterDefinitions(new Map());

  /** Parses `parameters` of a definition or policy set; `path` names it in errors. */
  static parse(raw: unknown, path: string): ParameterDefinitions {
    if (raw === undefined || raw === null) return ParameterDefinitions.none;
    const object = objectAt(raw, path);
    const byName = new Map<string, ParameterDefinition>();
    for (const [name, declaration] of Object.entries(object)) {
      const at = `${path}.${name}`;
      if (byName.has(name.toLowerCase()))
        fail(at, 'is declared twice (names are case-insensitive)');
      byName.set(name.toLowerCase(), parseDeclaration(name, declaration, at));
    }
    return new ParameterDefinitions(byName);
  }

  has(name: string): boolean {
    return this.byName.has(name.toLowerCase());
  }

  get(name: string): ParameterDefinition | undefined {
    return this.byName.get(name.toLowerCase());
  }

  names(): string[] {
    return [...this.byName.values()].map((d) => d.name);
  }

  all(): ParameterDefinition[] {
    return [...this.byName.values()];
  }

  /**
   * Checks an assignment's `parameters` (`{name: {value}}`) and fills in defaults. The result
   * is keyed by lower-cased name. Unknown names, missing required values, values of the wrong
   * type and values not allowed are errors naming `path.{name}.value`.
   */
  resolve(raw: unknown, path: string): Record<string, unknown> {
    const given = raw === undefined || raw === null ? {} : objectAt(raw, path);
    const values: Record<string, unknown> = {};
    for (const [name, entry] of Object.entries(given)) {
      const definition = this.get(name);
      if (definition === undefined) {
        const declared = this.names();
        fail(
          `${path}.${name}`,
          `is not a parameter of the policy; its parameters are: ${declared.length === 0 ? '(none)' : declared.join(', ')}`,
        );
      }
      const wrapper = objectAt(entry, `${path}.${name}`);
      if (!('value' in wrapper)) fail(`${path}.${name}`, 'must be an object {"value": …}');
      checkParameterValue(definition, wrapper['value'], `${path}.${name}.value`);
      values[name.toLowerCase()] = wrapper['value'];
    }
    for (const [key, definition] of this.byName) {
      if (key in values) continue;
      if (!definition.hasDefault) {
        fail(
          `${path}.${definition.name}`,
          `is required: the parameter has no defaultValue (type ${definition.type})`,
        );
      }
      values[key] = definition.defaultValue;
    }
    return values;
  }
}

function parseDeclaration(name: string, raw: unknown, at: string): ParameterDefinition {
  if (!/^[A-Za-z0-9_.-]{1,128}$/.test(name)) {
    fail(at, "is not a valid parameter name: use 1-128 letters, digits, '_', '-' or '.'");
  }
  const declaration = objectAt(raw, at);
  for (const key of Object.keys(declaration)) {
    if (
      !['type', 'allowedvalues', 'defaultvalue', 'metadata', 'schema'].includes(key.toLowerCase())
    ) {
      fail(
        `${at}.${key}`,
        'is not a known field; accepted: type, allowedValues, defaultValue, metadata, schema',
      );
    }
  }
  const rawType = fieldOf(declaration, 'type');
  const type = PARAMETER_TYPES.find(
    (t) => typeof rawType === 'string' && t.toLowerCase() === rawType.toLowerCase(),
  );
  if (type === undefined) {
    fail(`${at}.type`, `(${JSON.stringify(rawType)}) must be one of ${PARAMETER_TYPES.join(', ')}`);
  }
  const allowed = fieldOf(declaration, 'allowedValues');
  if (
    allowed !== undefined &&
    allowed !== null &&
    (!Array.isArray(allowed) || allowed.length === 0)
  ) {
    fail(`${at}.allowedValues`, 'must be a non-empty array');
  }
  const partial = {
    name,
    type,
    allowedValues: Array.isArray(allowed) ? (allowed as unknown[]) : undefined,
  };
  if (partial.allowedValues !== undefined && type !== 'Array') {
    partial.allowedValues.forEach((v, i) => checkType(type, v, `${at}.allowedValues[${i}]`));
  }
  const metadata = fieldOf(declaration, 'metadata');
  if (metadata !== undefined && metadata !== null) objectAt(metadata, `${at}.metadata`);
  const hasDefault = hasField(declaration, 'defaultValue');
  const definition: ParameterDefinition = {
    ...partial,
    defaultValue: fieldOf(declaration, 'defaultValue'),
    hasDefault,
  };
  if (hasDefault) checkParameterValue(definition, definition.defaultValue, `${at}.defaultValue`);
  return definition;
}

/** Type and allowedValues; for an Array with allowedValues, every element must be allowed. */
export function checkParameterValue(
  definition: ParameterDefinition,
  value: unknown,
  at: string,
): void {
  checkType(definition.type, value, at);
  const allowed = definition.allowedValues;
  if (allowed === undefined) return;
  const elementwise = definition.type === 'Array' && !allowed.some(Array.isArray);
  const items = elementwise ? (value as unknown[]) : [value];
  items.forEach((item, i) => {
    if (!allowed.some((a) => sameValue(a, item))) {
      fail(
        elementwise ? `${at}[${i}]` : at,
        `(${JSON.stringify(item)?.slice(0, 120)}) is not an allowed value of the parameter '${definition.name}'; allowed: ${allowed.map((a) => JSON.stringify(a)).join(', ')}`,
      );
    }
  });
}

function checkType(type: ParameterType, value: unknown, at: string): void {
  const ok = ((): boolean => {
    switch (type) {
      case 'String':
        return typeof value === 'string';
      case 'Array':
        return Array.isArray(value);
      case 'Object':
        return typeof value === 'object' && value !== null && !Array.isArray(value);
      case 'Boolean':
        return typeof value === 'boolean';
      case 'Integer':
        return typeof value === 'number' && Number.isInteger(value);
      case 'Float':
        return typeof value === 'number' && Number.isFinite(value);
      case 'DateTime':
        return typeof value === 'string' && !Number.isNaN(Date.parse(value));
    }
  })();
  if (!ok)
    fail(
      at,
      `(${JSON.stringify(value)?.slice(0, 120) ?? 'undefined'}) is not of the parameter's type ${type}`,
    );
}

/** Strings compare case-insensitively, as Azure compares policy values; the rest by JSON. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a === 'string' && typeof b === 'string') return a.toLowerCase() === b.toLowerCase();
  return JSON.stringify(a) === JSON.stringify(b);
}

function objectAt(raw: unknown, at: string): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    fail(at, 'must be a JSON object');
  return raw as Record<string, unknown>;
}

function fieldOf(object: Record<string, unknown>, name: string): unknown {
  const key = Object.keys(object).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : object[key];
}

function hasField(object: Record<string, unknown>, name: string): boolean {
  return Object.keys(object).some((k) => k.toLowerCase() === name.toLowerCase());
}

function fail(at: string, why: string): never {
  throw new PolicyError('ERR_INVALID_POLICY_PARAMETERS', at, why);
}
