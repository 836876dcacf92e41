// Judges a value found on the server against a rule's expectation, and says the expectation in
// words for the reason phrase. Pure.
import type { ValueExpectation } from '@tether/protocol';

const SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/**
 * A number as configuration files write one: decimal, or an sshd time like `1m30s` (seconds).
 * NaN when it is neither.
 */
export function numericValue(text: string): number {
  const trimmed = text.trim();
  if (/^[-+]?\d+(?:\.\d+)?$/.test(trimmed)) return Number(trimmed);
  if (!/^(?:\d+[smhdw]?)+$/i.test(trimmed)) return Number.NaN;
  let total = 0;
  for (const [, digits, unit] of trimmed.matchAll(/(\d+)([smhdw]?)/gi)) {
    total += Number(digits) * (SECONDS[(unit ?? '').toLowerCase()] ?? 1);
  }
  return total;
}

/** Text comparisons ignore case, as sshd and login do for yes/no and level names. */
export function meetsExpectation(expect: ValueExpectation, found: string): boolean {
  const value = found.trim();
  if ('equals' in expect) return value.toLowerCase() === expect.equals.toLowerCase();
  if ('oneOf' in expect) return expect.oneOf.some((v) => v.toLowerCase() === value.toLowerCase());
  if ('matches' in expect) return new RegExp(expect.matches).test(value);
  const n = numericValue(value);
  if (Number.isNaN(n)) return false;
  return 'atMost' in expect ? n <= expect.atMost : n >= expect.atLeast;
}

export function describeExpectation(expect: ValueExpectation): string {
  if ('equals' in expect) return `"${expect.equals}"`;
  if ('oneOf' in expect) return `one of ${expect.oneOf.map((v) => `"${v}"`).join(', ')}`;
  if ('matches' in expect) return `a value matching /${expect.matches}/`;
  return 'atMost' in expect ? `at most ${expect.atMost}` : `at least ${expect.atLeast}`;
}
