// The OData query options directory lists accept: `$filter=<field> eq '<value>'` or
// `startswith(<field>,'<prefix>')` (on a collection field, `<field>/any(c:c eq '<value>')`)
// on the fields a list names, `$top` and the `$skiptoken` of an `@odata.nextLink`.
import { invalidInput } from './directory-error.js';

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 999;

export interface ListQuery<Field extends string> {
  /** `any`: a member of a collection field equals the value; `startswith`: a prefix. */
  filter: { field: Field; value: string; op: 'eq' | 'any' | 'startswith' } | undefined;
  top: number;
  skipToken: string | undefined;
}

const FILTER = /^\s*(\w+)\s+eq\s+'((?:[^']|'')*)'\s*$/;
/** `field/any(x:x eq 'value')`: one member of a collection field equals the value. */
const ANY_FILTER = /^\s*(\w+)\/any\(\s*(\w+)\s*:\s*\2\s+eq\s+'((?:[^']|'')*)'\s*\)\s*$/;
/** `startswith(field,'prefix')`, as `az ad … list --display-name` asks. */
const STARTSWITH_FILTER = /^\s*startswith\(\s*(\w+)\s*,\s*'((?:[^']|'')*)'\s*\)\s*$/i;
const ALLOWED_OPTIONS = ['$filter', '$top', '$skiptoken', '$count', '$select'];

/** `collections` are the fields holding lists, filtered with `any()`; the others with `eq`. */
export function parseListQuery<Field extends string>(
  raw: unknown,
  fields: readonly Field[],
  collections: readonly Field[] = [],
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
    filter: parseFilter(query['$filter'], fields, collections),
    top: parseTop(query['$top']),
    skipToken: parseSkipToken(query['$skiptoken']),
  };
}

function parseFilter<Field extends string>(
  value: unknown,
  fields: readonly Field[],
  collections: readonly Field[],
): ListQuery<Field>['filter'] {
  if (value === undefined) return undefined;
  const expected = fields
    .map((f) =>
      collections.includes(f) ? `${f}/any(c:c eq '…')` : `${f} eq '…' or startswith(${f},'…')`,
    )
    .join(' or ');
  const text = typeof value === 'string' ? value : '';
  const forms = [
    { op: 'eq', match: FILTER.exec(text), valueAt: 2 },
    { op: 'any', match: ANY_FILTER.exec(text), valueAt: 3 },
    { op: 'startswith', match: STARTSWITH_FILTER.exec(text), valueAt: 2 },
  ] as const;
  const form = forms.find((f) => f.match !== null);
  const field = form?.match?.[1] as Field | undefined;
  const known =
    form !== undefined &&
    field !== undefined &&
    fields.includes(field) &&
    (form.op === 'any') === collections.includes(field);
  if (form === undefined || field === undefined || !known) {
    throw invalidInput(
      '$filter',
      `$filter ${JSON.stringify(value)} is not supported here: expected ${expected}.`,
    );
  }
  return {
    field,
    value: (form.match?.[form.valueAt] ?? '').replace(/''/g, "'"),
    op: form.op,
  };
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
    const { field, value, op } = query.filter;
    const quoted = `'${value.replace(/'/g, "''")}'`;
    const filter = {
      eq: `${field} eq ${quoted}`,
      any: `${field}/any(c:c eq ${quoted})`,
      startswith: `startswith(${field},${quoted})`,
    }[op];
    params.set('$filter', filter);
  }
  return { value: shown, '@odata.nextLink': `${baseUrl}?${params.toString()}` };
}
