// The OData query options directory lists accept: `$filter=<field> eq '<value>'` on the
// fields a list names, `$top` and the `$skiptoken` of an `@odata.nextLink`.
import { invalidInput } from './directory-error.js';

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 999;

export interface ListQuery<Field extends string> {
  filter: { field: Field; value: string } | undefined;
  top: number;
  skipToken: string | undefined;
}

const FILTER = /^\s*(\w+)\s+eq\s+'((?:[^']|'')*)'\s*$/;
const ALLOWED_OPTIONS = ['$filter', '$top', '$skiptoken', '$count', '$select'];

export function parseListQuery<Field extends string>(
  raw: unknown,
  fields: readonly Field[],
): ListQuery<Field> {
  const query = (raw ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(query)) {
    if (key.startsWith('$') && !ALLOWED_OPTIONS.includes(key)) {
      throw invalidInput(
        key,
        `Query option '${key}' is not supported; use $filter, $top or $skiptoken.`,
      );
    }
  }
  return {
    filter: parseFilter(query['$filter'], fields),
    top: parseTop(query['$top']),
    skipToken: parseSkipToken(query['$skiptoken']),
  };
}

function parseFilter<Field extends string>(
  value: unknown,
  fields: readonly Field[],
): ListQuery<Field>['filter'] {
  if (value === undefined) return undefined;
  const expected = fields.map((f) => `${f} eq '…'`).join(' or ');
  const match = typeof value === 'string' ? FILTER.exec(value) : null;
  const field = match?.[1] as Field | undefined;
  if (match === null || field === undefined || !fields.includes(field)) {
    throw invalidInput(
      '$filter',
      `$filter ${JSON.stringify(value)} is not supported here: expected ${expected}.`,
    );
  }
  return { field, value: (match[2] ?? '').replace(/''/g, "'") };
}

function parseTop(value: unknown): number {
  if (value === undefined) return DEFAULT_PAGE_SIZE;
  const top = typeof value === 'string' && /^\d{1,4}$/.test(value) ? Number(value) : Number.NaN;
  if (!(top >= 1 && top <= MAX_PAGE_SIZE)) {
    throw invalidInput(
      '$top',
      `$top ${JSON.stringify(value)} is not valid: expected a whole number from 1 to ${MAX_PAGE_SIZE}.`,
    );
  }
  return top;
}

function parseSkipToken(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^[0-9a-f-]{36}$/.test(value)) {
    throw invalidInput(
      '$skiptoken',
      `$skiptoken ${JSON.stringify(value)} is not valid: pass back the one an @odata.nextLink carries.`,
    );
  }
  return value;
}

/** `{value, @odata.nextLink?}`: a next link when the page is full. */
export function listPage<T>(
  items: readonly { id: string }[],
  shown: T[],
  query: ListQuery<string>,
  baseUrl: string,
): { value: T[]; '@odata.nextLink'?: string } {
  const last = items.at(-1);
  if (items.length < query.top || last === undefined) return { value: shown };
  const params = new URLSearchParams({ $top: String(query.top), $skiptoken: last.id });
  if (query.filter !== undefined) {
    params.set('$filter', `${query.filter.field} eq '${query.filter.value.replace(/'/g, "''")}'`);
  }
  return { value: shown, '@odata.nextLink': `${baseUrl}?${params.toString()}` };
}
