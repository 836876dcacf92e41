// The `if` language of a policy rule: `field`/`value` conditions with their operators, and
// `allOf`, `anyOf`, `not`. Parsed and checked once; evaluated as a pure function of a
// resource view and the assignment's parameter values.
import { parseField, readField, type FieldRef, type PolicyResourceView } from './policy-aliases.js';
import { PolicyError } from './policy-error.js';
import { parsePolicyValue, resolvePolicyValue, type PolicyValue } from './policy-expression.js';
import { sameValue, type ParameterDefinitions } from './policy-parameters.js';

export const OPERATORS = [
  'equals',
  'notEquals',
  'like',
  'notLike',
  'in',
  'notIn',
  'contains',
  'notContains',
  'exists',
  'greater',
  'greaterOrEquals',
  'less',
  'lessOrEquals',
] as const;
export type Operator = (typeof OPERATORS)[number];

export type Condition =
  | { readonly kind: 'allOf' | 'anyOf'; readonly conditions: readonly Condition[] }
  | { readonly kind: 'not'; readonly condition: Condition }
  | {
      readonly kind: 'compare';
      readonly subject: { readonly field: FieldRef } | { readonly value: PolicyValue };
      readonly operator: Operator;
      readonly operand: PolicyValue;
    };

const OPERATOR_BY_LOWER: ReadonlyMap<string, Operator> = new Map(
  OPERATORS.map((o) => [o.toLowerCase(), o]),
);
const LOGICAL = ['allOf', 'anyOf', 'not'] as const;
const SUBJECTS = ['field', 'value'] as const;

export function parseCondition(
  raw: unknown,
  path: string,
  parameters: ParameterDefinitions,
): Condition {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    fail(
      path,
      'must be a condition object such as {"field": "type", "equals": "Microsoft.HybridCompute/machines"}',
    );
  }
  const entries = Object.entries(raw as Record<string, unknown>);
  const logical = entries.filter(([k]) => LOGICAL.some((l) => l.toLowerCase() === k.toLowerCase()));
  if (logical.length > 0) {
    if (entries.length !== 1) {
      fail(
        path,
        `must hold only its ${logical[0]?.[0] ?? ''}; found ${entries.map(([k]) => k).join(', ')}`,
      );
    }
    const [key, value] = logical[0] ?? ['', undefined];
    const at = `${path}.${key}`;
    if (key.toLowerCase() === 'not')
      return { kind: 'not', condition: parseCondition(value, at, parameters) };
    if (!Array.isArray(value) || value.length === 0)
      fail(at, 'must be a non-empty array of conditions');
    return {
      kind: key.toLowerCase() === 'allof' ? 'allOf' : 'anyOf',
      conditions: value.map((c, i) => parseCondition(c, `${at}[${i}]`, parameters)),
    };
  }
  let subject: { field: FieldRef } | { value: PolicyValue } | undefined;
  let operator: [Operator, unknown, string] | undefined;
  for (const [key, value] of entries) {
    const lower = key.toLowerCase();
    const at = `${path}.${key}`;
    if (SUBJECTS.some((s) => s === lower)) {
      if (subject !== undefined) fail(path, "must have one 'field' or one 'value', not both");
      subject =
        lower === 'field'
          ? { field: parseField(value, at) }
          : { value: parsePolicyValue(value, at, parameters) };
      continue;
    }
    const known = OPERATOR_BY_LOWER.get(lower);
    if (known === undefined) {
      fail(
        at,
        `is not a known operator; accepted: ${OPERATORS.join(', ')}, with 'field' or 'value', or allOf, anyOf, not`,
      );
    }
    if (operator !== undefined)
      fail(path, `has two operators (${operator[2]}, ${key}); use allOf to combine them`);
    operator = [known, value, at];
  }
  if (subject === undefined) fail(path, "must name a 'field' or a 'value' to test");
  if (operator === undefined) fail(path, `must have an operator: one of ${OPERATORS.join(', ')}`);
  const [name, rawOperand, at] = operator;
  const operand = parsePolicyValue(rawOperand, at, parameters);
  checkOperandShape(name, operand, at, parameters);
  return { kind: 'compare', subject, operator: name, operand };
}

function checkOperandShape(
  operator: Operator,
  operand: PolicyValue,
  at: string,
  parameters: ParameterDefinitions,
): void {
  if (operand.kind === 'parameter') {
    const type = parameters.get(operand.name)?.type;
    const wantsArray = operator === 'in' || operator === 'notIn';
    if (wantsArray && type !== 'Array')
      fail(at, `refers to a parameter of type ${type ?? '?'}; '${operator}' needs an Array`);
    if (!wantsArray && type === 'Array' && operator !== 'equals' && operator !== 'notEquals') {
      fail(at, `refers to an Array parameter; '${operator}' needs a single value`);
    }
    return;
  }
  const value = operand.value;
  switch (operator) {
    case 'in':
    case 'notIn':
      if (!Array.isArray(value)) fail(at, `must be an array of values for '${operator}'`);
      return;
    case 'like':
    case 'notLike':
      if (typeof value !== 'string')
        fail(at, `must be a string pattern ('*' matches anything) for '${operator}'`);
      return;
    case 'exists':
      if (typeof value !== 'boolean' && value !== 'true' && value !== 'false')
        fail(at, "must be true or false for 'exists'");
      return;
    case 'greater':
    case 'greaterOrEquals':
    case 'less':
    case 'lessOrEquals':
      if (typeof value !== 'string' && typeof value !== 'number')
        fail(at, `must be a string or number for '${operator}'`);
      return;
    case 'equals':
    case 'notEquals':
    case 'contains':
    case 'notContains':
      if (value === undefined || value === null) fail(at, `must be a value for '${operator}'`);
      return;
  }
}

/** Whether the resource meets the condition, with `parameters` keyed by lower-cased name. */
export function evaluateCondition(
  condition: Condition,
  view: PolicyResourceView,
  parameters: Readonly<Record<string, unknown>>,
): boolean {
  switch (condition.kind) {
    case 'allOf':
      return condition.conditions.every((c) => evaluateCondition(c, view, parameters));
    case 'anyOf':
      return condition.conditions.some((c) => evaluateCondition(c, view, parameters));
    case 'not':
      return !evaluateCondition(condition.condition, view, parameters);
    case 'compare': {
      const subject =
        'field' in condition.subject
          ? readField(condition.subject.field, view)
          : resolvePolicyValue(condition.subject.value, parameters);
      return compare(
        condition.operator,
        subject,
        resolvePolicyValue(condition.operand, parameters),
      );
    }
  }
}

/** A field that does not exist equals nothing, is like nothing and is in nothing. */
function compare(operator: Operator, subject: unknown, operand: unknown): boolean {
  switch (operator) {
    case 'equals':
      return subject !== undefined && sameValue(subject, operand);
    case 'notEquals':
      return !compare('equals', subject, operand);
    case 'like':
      return (
        typeof subject === 'string' &&
        typeof operand === 'string' &&
        likePattern(operand).test(subject)
      );
    case 'notLike':
      return !compare('like', subject, operand);
    case 'in':
      return (
        subject !== undefined &&
        Array.isArray(operand) &&
        operand.some((o) => sameValue(subject, o))
      );
    case 'notIn':
      return !compare('in', subject, operand);
    case 'contains':
      if (typeof subject === 'string' && typeof operand === 'string') {
        return subject.toLowerCase().includes(operand.toLowerCase());
      }
      return Array.isArray(subject) && subject.some((s) => sameValue(s, operand));
    case 'notContains':
      return !compare('contains', subject, operand);
    case 'exists':
      return (subject !== undefined) === (operand === true || operand === 'true');
    case 'greater':
    case 'greaterOrEquals':
    case 'less':
    case 'lessOrEquals':
      return ordered(operator, subject, operand);
  }
}

function ordered(operator: Operator, subject: unknown, operand: unknown): boolean {
  let order: number;
  if (typeof subject === 'number' && typeof operand === 'number') order = subject - operand;
  else if (typeof subject === 'string' && typeof operand === 'string') {
    order = subject.toLowerCase().localeCompare(operand.toLowerCase());
  } else return false;
  if (operator === 'greater') return order > 0;
  if (operator === 'greaterOrEquals') return order >= 0;
  if (operator === 'less') return order < 0;
  return order <= 0;
}

const patterns = new Map<string, RegExp>();

/** `*` matches any run of characters; everything else literally, case-insensitively. */
export function likePattern(pattern: string): RegExp {
  let regex = patterns.get(pattern);
  if (regex === undefined) {
    const body = pattern
      .split('*')
      .map((piece) => piece.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
      .join('.*');
    regex = new RegExp(`^${body}$`, 'is');
    if (patterns.size < 1000) patterns.set(pattern, regex);
  }
  return regex;
}

function fail(at: string, why: string): never {
  throw new PolicyError('ERR_INVALID_POLICY_RULE', at, why);
}
