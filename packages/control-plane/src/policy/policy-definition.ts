// A policy definition's `properties`, checked once: mode, texts, metadata (with its
// `guestConfiguration` block), parameters and the rule that uses them.
import { PolicyError } from './policy-error.js';
import { ParameterDefinitions } from './policy-parameters.js';
import { fieldOf, parsePolicyRule, type PolicyRule } from './policy-rule.js';

export const POLICY_TYPES = ['BuiltIn', 'Custom', 'Static', 'NotSpecified'] as const;
export type PolicyType = (typeof POLICY_TYPES)[number];
export const POLICY_MODES = ['All', 'Indexed'] as const;
export type PolicyMode = (typeof POLICY_MODES)[number];

/** `metadata.guestConfiguration`: the configuration a guest configuration policy audits or applies. */
export interface GuestConfigurationMetadata {
  readonly name: string;
  readonly version: string | undefined;
  readonly assignmentType: string | undefined;
  /** Policy parameter name (lower-cased) → configuration parameter name (`resource;property`). */
  readonly configurationParameter: Readonly<Record<string, string>>;
}

export interface PolicyDefinitionDocument {
  readonly policyType: PolicyType;
  readonly mode: PolicyMode;
  readonly displayName: string | undefined;
  readonly description: string | undefined;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly parameters: ParameterDefinitions;
  readonly policyRule: PolicyRule;
  readonly guestConfiguration: GuestConfigurationMetadata | undefined;
}

const KNOWN = [
  'policyType',
  'mode',
  'displayName',
  'description',
  'metadata',
  'parameters',
  'policyRule',
  'version',
  'versions',
  'externalEvaluationEnforcementSettings',
];

/** Parses `properties` of a definition; `path` prefixes every error's JSON path. */
export function parsePolicyDefinition(raw: unknown, path = 'properties'): PolicyDefinitionDocument {
  const properties = objectAt(raw, path);
  for (const key of Object.keys(properties)) {
    if (!KNOWN.some((k) => k.toLowerCase() === key.toLowerCase())) {
      fail(`${path}.${key}`, `is not a known field; accepted: ${KNOWN.join(', ')}`);
    }
  }
  const policyType = oneOf(
    fieldOf(properties, 'policyType') ?? 'Custom',
    POLICY_TYPES,
    `${path}.policyType`,
  );
  const mode = oneOf(fieldOf(properties, 'mode') ?? 'Indexed', POLICY_MODES, `${path}.mode`);
  const displayName = optionalText(fieldOf(properties, 'displayName'), `${path}.displayName`, 128);
  const description = optionalText(fieldOf(properties, 'description'), `${path}.description`, 512);
  const rawMetadata = fieldOf(properties, 'metadata');
  const metadata =
    rawMetadata === undefined || rawMetadata === null
      ? {}
      : objectAt(rawMetadata, `${path}.metadata`);
  const parameters = ParameterDefinitions.parse(
    fieldOf(properties, 'parameters'),
    `${path}.parameters`,
  );
  const rawRule = fieldOf(properties, 'policyRule');
  if (rawRule === undefined)
    fail(`${path}.policyRule`, 'is required: {"if": {…}, "then": {"effect": …}}');
  const policyRule = parsePolicyRule(rawRule, `${path}.policyRule`, parameters);
  const guestConfiguration = parseGuestConfiguration(
    fieldOf(metadata, 'guestConfiguration'),
    `${path}.metadata.guestConfiguration`,
    parameters,
  );
  return {
    policyType,
    mode,
    displayName,
    description,
    metadata,
    parameters,
    policyRule,
    guestConfiguration,
  };
}

function parseGuestConfiguration(
  raw: unknown,
  at: string,
  parameters: ParameterDefinitions,
): GuestConfigurationMetadata | undefined {
  if (raw === undefined || raw === null) return undefined;
  const block = objectAt(raw, at);
  const name = fieldOf(block, 'name');
  if (typeof name !== 'string' || !/^[A-Za-z0-9_.-]{1,128}$/.test(name)) {
    fail(`${at}.name`, "must be the configuration's name: 1-128 letters, digits, '_', '-' or '.'");
  }
  const version = optionalText(fieldOf(block, 'version'), `${at}.version`, 64);
  const assignmentType = optionalText(fieldOf(block, 'assignmentType'), `${at}.assignmentType`, 64);
  const rawMapping = fieldOf(block, 'configurationParameter');
  const configurationParameter: Record<string, string> = {};
  if (rawMapping !== undefined && rawMapping !== null) {
    for (const [parameter, target] of Object.entries(
      objectAt(rawMapping, `${at}.configurationParameter`),
    )) {
      const where = `${at}.configurationParameter.${parameter}`;
      if (!parameters.has(parameter)) fail(where, 'names no parameter of the policy');
      if (typeof target !== 'string')
        fail(where, 'must be the configuration parameter\'s name, e.g. "resource;property"');
      configurationParameter[parameter.toLowerCase()] = target;
    }
  }
  return { name, version, assignmentType, configurationParameter };
}

function oneOf<T extends string>(raw: unknown, accepted: readonly T[], at: string): T {
  const found = accepted.find(
    (a) => typeof raw === 'string' && a.toLowerCase() === raw.toLowerCase(),
  );
  if (found === undefined)
    fail(at, `(${JSON.stringify(raw)}) must be one of ${accepted.join(', ')}`);
  return found;
}

export function optionalText(raw: unknown, at: string, max: number): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'string' || raw.length > max)
    fail(at, `must be a string of at most ${max} characters`);
  return raw;
}

function objectAt(raw: unknown, at: string): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    fail(at, 'must be a JSON object');
  return raw as Record<string, unknown>;
}

function fail(at: string, why: string): never {
  throw new PolicyError('ERR_INVALID_POLICY_RULE', at, why);
}
