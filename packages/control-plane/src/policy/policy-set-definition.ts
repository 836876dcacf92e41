// A policy set definition (initiative): its parameters and member definitions, each with a
// reference id unique in the set and parameter values that may use the set's own parameters.
import { PolicyError } from './policy-error.js';
import { parsePolicyValue, resolvePolicyValue, type PolicyValue } from './policy-expression.js';
import { optionalText, type PolicyDefinitionDocument } from './policy-definition.js';
import { ParameterDefinitions, checkParameterValue } from './policy-parameters.js';
import { fieldOf } from './policy-rule.js';

export interface PolicySetMember {
  /** Lower-cased id of the member definition. */
  readonly policyDefinitionId: string;
  readonly policyDefinitionReferenceId: string;
  /** Member parameter (lower-cased) → value, literal or a reference to the set's parameter. */
  readonly parameters: Readonly<Record<string, PolicyValue>>;
  readonly groupNames: readonly string[];
}

export interface PolicySetDocument {
  readonly displayName: string | undefined;
  readonly description: string | undefined;
  readonly parameters: ParameterDefinitions;
  readonly members: readonly PolicySetMember[];
}

/** Finds a definition by its lower-cased id; undefined when there is none. */
export type DefinitionLookup = (policyDefinitionId: string) => PolicyDefinitionDocument | undefined;

const KNOWN = [
  'policyType',
  'displayName',
  'description',
  'metadata',
  'parameters',
  'policyDefinitions',
  'policyDefinitionGroups',
  'version',
  'versions',
];

/**
 * Parses `properties` of a set. Members without a reference id get their definition's name
 * (made unique), so that the stored set names every member; `filled` is that body.
 */
export function parsePolicySet(
  raw: unknown,
  lookup: DefinitionLookup,
  path = 'properties',
): { document: PolicySetDocument; filled: Record<string, unknown> } {
  const properties = objectAt(raw, path);
  for (const key of Object.keys(properties)) {
    if (!KNOWN.some((k) => k.toLowerCase() === key.toLowerCase())) {
      fail(`${path}.${key}`, `is not a known field; accepted: ${KNOWN.join(', ')}`);
    }
  }
  const displayName = optionalText(fieldOf(properties, 'displayName'), `${path}.displayName`, 128);
  const description = optionalText(fieldOf(properties, 'description'), `${path}.description`, 512);
  const parameters = ParameterDefinitions.parse(
    fieldOf(properties, 'parameters'),
    `${path}.parameters`,
  );
  const groups = new Set<string>();
  const rawGroups = fieldOf(properties, 'policyDefinitionGroups');
  if (rawGroups !== undefined && rawGroups !== null) {
    if (!Array.isArray(rawGroups))
      fail(
        `${path}.policyDefinitionGroups`,
        'must be an array of {name, displayName, category, description}',
      );
    rawGroups.forEach((g, i) => {
      const name = fieldOf(objectAt(g, `${path}.policyDefinitionGroups[${i}]`), 'name');
      if (typeof name !== 'string' || name.length === 0)
        fail(`${path}.policyDefinitionGroups[${i}].name`, 'is required');
      groups.add(name.toLowerCase());
    });
  }
  const rawMembers = fieldOf(properties, 'policyDefinitions');
  if (!Array.isArray(rawMembers) || rawMembers.length === 0) {
    fail(
      `${path}.policyDefinitions`,
      'must list at least one {policyDefinitionId, parameters, policyDefinitionReferenceId}',
    );
  }
  const taken = new Set<string>();
  const members: PolicySetMember[] = [];
  const filledMembers: Record<string, unknown>[] = [];
  rawMembers.forEach((rawMember, i) => {
    const at = `${path}.policyDefinitions[${i}]`;
    const member = objectAt(rawMember, at);
    const id = fieldOf(member, 'policyDefinitionId');
    if (typeof id !== 'string' || id.length === 0) fail(`${at}.policyDefinitionId`, 'is required');
    const definition = lookup(id.toLowerCase());
    if (definition === undefined) {
      throw new PolicyError(
        'ERR_INVALID_POLICY_SET',
        `${at}.policyDefinitionId`,
        `('${id}') names no policy definition visible here`,
      );
    }
    const givenReference = fieldOf(member, 'policyDefinitionReferenceId');
    if (
      givenReference !== undefined &&
      givenReference !== null &&
      (typeof givenReference !== 'string' || !/^[^<>*%&:\\?+/]{1,64}$/.test(givenReference))
    ) {
      fail(`${at}.policyDefinitionReferenceId`, 'must be 1-64 characters without <>*%&:\\?+/');
    }
    let referenceId = typeof givenReference === 'string' ? givenReference : '';
    if (referenceId === '') {
      const base = id.split('/').at(-1) ?? 'policy';
      referenceId = base;
      for (let n = 2; taken.has(referenceId.toLowerCase()); n++) referenceId = `${base}_${n}`;
    }
    if (taken.has(referenceId.toLowerCase())) {
      fail(
        `${at}.policyDefinitionReferenceId`,
        `('${referenceId}') is used by another member; reference ids must be unique in the set`,
      );
    }
    taken.add(referenceId.toLowerCase());
    const rawGroupNames = fieldOf(member, 'groupNames') ?? [];
    if (
      !Array.isArray(rawGroupNames) ||
      rawGroupNames.some((g) => typeof g !== 'string' || !groups.has(g.toLowerCase()))
    ) {
      fail(
        `${at}.groupNames`,
        `must name groups declared in policyDefinitionGroups (${[...groups].join(', ') || 'none declared'})`,
      );
    }
    const values = memberParameters(
      fieldOf(member, 'parameters'),
      `${at}.parameters`,
      definition,
      parameters,
    );
    members.push({
      policyDefinitionId: id.toLowerCase(),
      policyDefinitionReferenceId: referenceId,
      parameters: values,
      groupNames: rawGroupNames as string[],
    });
    filledMembers.push({ ...member, policyDefinitionReferenceId: referenceId });
  });
  return {
    document: { displayName, description, parameters, members },
    filled: { ...properties, policyDefinitions: filledMembers },
  };
}

function memberParameters(
  raw: unknown,
  at: string,
  definition: PolicyDefinitionDocument,
  setParameters: ParameterDefinitions,
): Record<string, PolicyValue> {
  const given = raw === undefined || raw === null ? {} : objectAt(raw, at);
  const values: Record<string, PolicyValue> = {};
  for (const [name, wrapper] of Object.entries(given)) {
    const where = `${at}.${name}`;
    const declared = definition.parameters.get(name);
    if (declared === undefined) {
      fail(
        where,
        `is not a parameter of the member definition; its parameters are: ${definition.parameters.names().join(', ') || '(none)'}`,
      );
    }
    const object = objectAt(wrapper, where);
    if (!('value' in object)) fail(where, 'must be an object {"value": …}');
    const value = parsePolicyValue(
      object['value'],
      `${where}.value`,
      setParameters,
      'ERR_INVALID_POLICY_SET',
    );
    if (value.kind === 'literal') {
      checkParameterValue(declared, value.value, `${where}.value`);
    } else {
      const type = setParameters.get(value.name)?.type;
      if (type !== declared.type) {
        fail(
          `${where}.value`,
          `refers to the set parameter '${value.name}' of type ${type ?? '?'}, but the member parameter is ${declared.type}`,
        );
      }
    }
    values[name.toLowerCase()] = value;
  }
  for (const declared of definition.parameters.all()) {
    if (!declared.hasDefault && !(declared.name.toLowerCase() in values)) {
      fail(
        `${at}.${declared.name}`,
        `is required: the member definition's parameter has no defaultValue (type ${declared.type})`,
      );
    }
  }
  return values;
}

/** The member's values in the `{name: {value}}` form, given the set's resolved values. */
export function memberValues(
  member: PolicySetMember,
  setValues: Readonly<Record<string, unknown>>,
): Record<string, { value: unknown }> {
  return Object.fromEntries(
    Object.entries(member.parameters).map(([name, value]) => [
      name,
      { value: resolvePolicyValue(value, setValues) },
    ]),
  );
}

function objectAt(raw: unknown, at: string): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    fail(at, 'must be a JSON object');
  return raw as Record<string, unknown>;
}

function fail(at: string, why: string): never {
  throw new PolicyError('ERR_INVALID_POLICY_SET', at, why);
}
