// A policy rule (`{if, then: {effect, details}}`): parsed and checked once, naming the JSON
// path of anything wrong; then evaluated against resource views. The effect may be a
// parameter, whose allowed values (or default) must all be effects.
import type { PolicyResourceView } from './policy-aliases.js';
import { evaluateCondition, parseCondition, type Condition } from './policy-condition.js';
import { PolicyError } from './policy-error.js';
import { parsePolicyValue, resolvePolicyValue, type PolicyValue } from './policy-expression.js';
import type { ParameterDefinitions } from './policy-parameters.js';

export const EFFECTS = [
  'Disabled',
  'Audit',
  'Deny',
  'AuditIfNotExists',
  'DeployIfNotExists',
] as const;
export type PolicyEffect = (typeof EFFECTS)[number];

/** What AuditIfNotExists and DeployIfNotExists look for beside the resource. */
export interface EffectDetails {
  /** The related resource type, e.g. `Microsoft.GuestConfiguration/guestConfigurationAssignments`. */
  readonly type: string;
  readonly name: string | undefined;
  readonly existenceCondition: Condition | undefined;
}

export interface PolicyRule {
  readonly if: Condition;
  readonly effect: PolicyValue;
  /** Every effect the rule can have, whatever the assignment's parameters. */
  readonly possibleEffects: readonly PolicyEffect[];
  readonly details: EffectDetails | undefined;
}

/** The effect a string names, case-insensitively; undefined if it names none. */
export function effectOf(raw: unknown): PolicyEffect | undefined {
  return typeof raw === 'string'
    ? EFFECTS.find((e) => e.toLowerCase() === raw.toLowerCase())
    : undefined;
}

export function parsePolicyRule(
  raw: unknown,
  path: string,
  parameters: ParameterDefinitions,
): PolicyRule {
  const rule = objectAt(raw, path);
  checkKeys(rule, ['if', 'then'], path);
  const condition = parseCondition(
    fieldOf(rule, 'if') ?? missing(`${path}.if`),
    `${path}.if`,
    parameters,
  );
  const then = objectAt(fieldOf(rule, 'then') ?? missing(`${path}.then`), `${path}.then`);
  checkKeys(then, ['effect', 'details'], `${path}.then`);
  const effectPath = `${path}.then.effect`;
  const effect = parsePolicyValue(
    fieldOf(then, 'effect') ?? missing(effectPath),
    effectPath,
    parameters,
  );
  const possibleEffects = possibleEffectsOf(effect, effectPath, parameters);
  const needsDetails = possibleEffects.some(
    (e) => e === 'AuditIfNotExists' || e === 'DeployIfNotExists',
  );
  const rawDetails = fieldOf(then, 'details');
  const detailsPath = `${path}.then.details`;
  let details: EffectDetails | undefined;
  if (needsDetails) {
    details = parseDetails(
      rawDetails ?? missing(detailsPath),
      detailsPath,
      parameters,
      possibleEffects.includes('DeployIfNotExists'),
    );
  } else if (rawDetails !== undefined && rawDetails !== null && typeof rawDetails !== 'object') {
    fail(detailsPath, 'must be an object or an array when given');
  }
  return { if: condition, effect, possibleEffects, details };
}

function possibleEffectsOf(
  effect: PolicyValue,
  at: string,
  parameters: ParameterDefinitions,
): PolicyEffect[] {
  const accepted = `accepted: ${EFFECTS.join(', ')}`;
  if (effect.kind === 'literal') {
    const known = effectOf(effect.value);
    if (known === undefined)
      fail(at, `(${JSON.stringify(effect.value)}) is not a known effect; ${accepted}`);
    return [known];
  }
  const parameter = parameters.get(effect.name);
  if (parameter?.type !== 'String')
    fail(
      at,
      `refers to the parameter '${effect.name}', which must be of type String to hold an effect`,
    );
  const candidates =
    parameter.allowedValues ?? (parameter.hasDefault ? [parameter.defaultValue] : undefined);
  if (candidates === undefined) {
    fail(
      at,
      `refers to the parameter '${parameter.name}', which needs allowedValues or a defaultValue naming effects`,
    );
  }
  return candidates.map((value, i) => {
    const known = effectOf(value);
    if (known === undefined) {
      fail(
        `${at} (parameter '${parameter.name}' value ${i})`,
        `(${JSON.stringify(value)}) is not a known effect; ${accepted}`,
      );
    }
    return known;
  });
}

function parseDetails(
  raw: unknown,
  path: string,
  parameters: ParameterDefinitions,
  deploys: boolean,
): EffectDetails {
  const details = objectAt(raw, path);
  const type = fieldOf(details, 'type');
  if (typeof type !== 'string' || !/^[A-Za-z0-9.]+\/[A-Za-z0-9/]+$/.test(type)) {
    fail(
      `${path}.type`,
      'must be the related resource type, e.g. "Microsoft.GuestConfiguration/guestConfigurationAssignments"',
    );
  }
  const name = fieldOf(details, 'name');
  if (name !== undefined && typeof name !== 'string') fail(`${path}.name`, 'must be a string');
  const rawCondition = fieldOf(details, 'existenceCondition');
  const existenceCondition =
    rawCondition === undefined
      ? undefined
      : parseCondition(rawCondition, `${path}.existenceCondition`, parameters);
  if (deploys) {
    const roles = fieldOf(details, 'roleDefinitionIds');
    if (!Array.isArray(roles) || roles.length === 0 || roles.some((r) => typeof r !== 'string')) {
      fail(
        `${path}.roleDefinitionIds`,
        'must list the role definition ids the deployment needs (DeployIfNotExists)',
      );
    }
    const deployment = objectAt(
      fieldOf(details, 'deployment') ?? missing(`${path}.deployment`),
      `${path}.deployment`,
    );
    objectAt(
      fieldOf(deployment, 'properties') ?? missing(`${path}.deployment.properties`),
      `${path}.deployment.properties`,
    );
  }
  return { type, name, existenceCondition };
}

export interface RuleOutcome {
  /** The `if` held: the effect applies to the resource. */
  readonly matched: boolean;
  readonly effect: PolicyEffect;
}

/** The effect with the assignment's values; an effect parameter holding no effect is refused. */
export function effectWith(
  rule: PolicyRule,
  parameters: Readonly<Record<string, unknown>>,
  path = 'properties.parameters',
): PolicyEffect {
  const value = resolvePolicyValue(rule.effect, parameters);
  const effect = effectOf(value);
  if (effect === undefined) {
    throw new PolicyError(
      'ERR_INVALID_POLICY_PARAMETERS',
      rule.effect.kind === 'parameter' ? `${path}.${rule.effect.name}` : path,
      `(${JSON.stringify(value)}) is not a known effect; accepted: ${EFFECTS.join(', ')}`,
    );
  }
  return effect;
}

export function evaluatePolicyRule(
  rule: PolicyRule,
  view: PolicyResourceView,
  parameters: Readonly<Record<string, unknown>>,
): RuleOutcome {
  const effect = effectWith(rule, parameters);
  return { matched: effect !== 'Disabled' && evaluateCondition(rule.if, view, parameters), effect };
}

function objectAt(raw: unknown, at: string): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    fail(at, 'must be a JSON object');
  return raw as Record<string, unknown>;
}

function checkKeys(object: Record<string, unknown>, known: readonly string[], at: string): void {
  for (const key of Object.keys(object)) {
    if (!known.some((k) => k.toLowerCase() === key.toLowerCase())) {
      fail(`${at}.${key}`, `is not a known field; accepted: ${known.join(', ')}`);
    }
  }
}

export function fieldOf(object: Record<string, unknown>, name: string): unknown {
  const key = Object.keys(object).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : object[key];
}

function missing(at: string): never {
  return fail(at, 'is required');
}

function fail(at: string, why: string): never {
  throw new PolicyError('ERR_INVALID_POLICY_RULE', at, why);
}
