// Values in policy JSON that may be template expressions: only `[parameters('name')]` is
// understood; `[[` escapes a literal leading bracket, as in ARM templates.
import { PolicyError, type PolicyErrorCode } from './policy-error.js';

export type PolicyValue =
  | { readonly kind: 'literal'; readonly value: unknown }
  /** `name` is lower-cased: parameter names are case-insensitive. */
  | { readonly kind: 'parameter'; readonly name: string };

const PARAMETER = /^\[\s*parameters\(\s*'([^']+)'\s*\)\s*\]$/i;

/** Lower-cased parameter name → the values a reference may be given, for checks at parse time. */
export interface ParameterScope {
  has(name: string): boolean;
  names(): string[];
}

/** Parses a value; a `[…]` string must be `[parameters('x')]` naming a declared parameter. */
export function parsePolicyValue(
  raw: unknown,
  path: string,
  parameters: ParameterScope,
  code: PolicyErrorCode = 'ERR_INVALID_POLICY_RULE',
): PolicyValue {
  if (typeof raw !== 'string' || !raw.startsWith('[')) return { kind: 'literal', value: raw };
  if (raw.startsWith('[[')) return { kind: 'literal', value: raw.slice(1) };
  if (!raw.endsWith(']')) return { kind: 'literal', value: raw };
  const match = PARAMETER.exec(raw);
  if (match === null) {
    throw new PolicyError(
      code,
      path,
      `(${JSON.stringify(raw.slice(0, 120))}) is not a supported expression: only "[parameters('name')]" is understood; start a literal with "[[" to keep its bracket`,
    );
  }
  const name = (match[1] ?? '').toLowerCase();
  if (!parameters.has(name)) {
    const declared = parameters.names();
    throw new PolicyError(
      code,
      path,
      `refers to the parameter '${match[1] ?? ''}', which is not declared; declared parameters: ${declared.length === 0 ? '(none)' : declared.join(', ')}`,
    );
  }
  return { kind: 'parameter', name };
}

/** The value with parameter references replaced; `values` is keyed by lower-cased name. */
export function resolvePolicyValue(
  value: PolicyValue,
  values: Readonly<Record<string, unknown>>,
): unknown {
  return value.kind === 'literal' ? value.value : values[value.name];
}
