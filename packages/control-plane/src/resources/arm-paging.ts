// Paged lists the ARM way: `{value, nextLink}` where nextLink is an absolute URL carrying the
// api-version, the caller's filter and an opaque `$skiptoken` marking where the page ended.
import type { FastifyRequest } from 'fastify';
import { ArmError } from '../api/arm-error.js';
import { queryValue } from './arm-request.js';

export const DEFAULT_PAGE_SIZE = 100;

export interface ArmList<T> {
  value: T[];
  nextLink?: string;
}

/** The sort key of the last item already returned, or undefined for the first page. */
export function skipTokenOf(request: FastifyRequest): string | undefined {
  const token = queryValue(request, '$skiptoken');
  if (token === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (
      typeof parsed === 'object' &&
      parsed !== null &&
      typeof (parsed as { after?: unknown }).after === 'string'
    ) {
      return (parsed as { after: string }).after;
    }
  } catch {
    // A token this server did not issue: the error below.
  }
  throw new ArmError(
    'BadRequest',
    `The $skiptoken '${token.slice(0, 80)}' is not valid; pass back the one from the previous page's nextLink.`,
    { target: '$skiptoken' },
  );
}

export function encodeSkipToken(after: string): string {
  return Buffer.from(JSON.stringify({ after })).toString('base64url');
}

/** The link to the page after `lastKey`, on the same path with the same query. */
export function nextLinkFor(publicUrl: string, request: FastifyRequest, skipToken: string): string {
  const [rawPath = '', rawQuery = ''] = request.url.split('?', 2);
  const path = rawPath.replace(/\/{2,}/g, '/');
  const query = new URLSearchParams(rawQuery);
  query.set('$skiptoken', skipToken);
  return `${publicUrl.replace(/\/+$/, '')}${path}?${query.toString()}`;
}

/**
 * Cuts `sorted` (sorted by `keyOf`, already past the skip token, with one extra item fetched
 * to tell whether more follow) into one page and its nextLink.
 */
export function pageOf<T, R>(
  rows: readonly T[],
  pageSize: number,
  keyOf: (row: T) => string,
  render: (row: T) => R,
  link: (skipToken: string) => string,
): ArmList<R> {
  const page = rows.slice(0, pageSize);
  const last = page.at(-1);
  const list: ArmList<R> = { value: page.map(render) };
  if (rows.length > pageSize && last !== undefined)
    list.nextLink = link(encodeSkipToken(keyOf(last)));
  return list;
}
