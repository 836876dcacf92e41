// ARM scopes ('/', '/subscriptions/{id}', '…/resourceGroups/{rg}', resource ids): one
// canonical spelling, and the segment-wise ancestry on which role inheritance rests.
import { RbacError } from './rbac-error.js';

/** Longer than any real ARM id; bounds the work a hostile scope can cause. */
const MAX_SCOPE_LENGTH = 2048;

/** Characters that have no place in an ARM id and would make two spellings of one scope. */
const FORBIDDEN_CHARACTERS = /[\s\\?#*%\p{Cc}]/u;

const EXPECTED =
  'expected "/", "/subscriptions/{id}", "/subscriptions/{id}/resourceGroups/{name}" or a resource id below them';

/**
 * Lower-cases a scope (ARM scopes are case-insensitive), tolerates a doubled leading slash
 * and trailing slashes, and rejects anything that is not a well-formed scope.
 */
export function normalizeScope(raw: string): string {
  const invalid = (why: string): RbacError =>
    new RbacError(
      'ERR_INVALID_SCOPE',
      `scope ${JSON.stringify(raw)} is not valid: ${why}; ${EXPECTED}`,
      {
        target: 'scope',
      },
    );
  if (typeof raw !== 'string' || raw.length === 0) throw invalid('it is empty');
  if (raw.length > MAX_SCOPE_LENGTH)
    throw invalid(`it is longer than ${MAX_SCOPE_LENGTH} characters`);
  if (!raw.startsWith('/')) throw invalid('it does not start with "/"');
  if (FORBIDDEN_CHARACTERS.test(raw))
    throw invalid('it contains whitespace, a control character or one of \\ ? # * %');

  let end = raw.length;
  while (end > 0 && raw.charCodeAt(end - 1) === 0x2f) end--;
  const start = raw.startsWith('//') ? 1 : 0;
  if (end <= start) return '/';
  const scope = raw.slice(start, end).toLowerCase();

  const segments = scope.split('/').slice(1);
  if (segments.some((s) => s.length === 0)) throw invalid('it has an empty segment');
  if (segments.some((s) => s === '.' || s === '..')) throw invalid('it has a "." or ".." segment');
  const first = segments[0];
  if (first !== 'subscriptions' && first !== 'providers') {
    throw invalid('it must begin with "/subscriptions/" or "/providers/"');
  }
  if (segments.length % 2 !== 0) throw invalid(`"${segments.at(-1) ?? ''}" has no name after it`);
  return scope;
}

/**
 * True when `scope` is `ancestor` or lies below it, compared segment by segment so that
 * `…/resourcegroups/rg1` is not within `…/resourcegroups/rg`. Both must be normalized.
 */
export function isWithinScope(scope: string, ancestor: string): boolean {
  if (ancestor === '/') return true;
  if (!scope.startsWith(ancestor)) return false;
  return scope.length === ancestor.length || scope.charCodeAt(ancestor.length) === 0x2f;
}

/** The normalized scope and every scope above it, root first. */
export function scopeAndAncestors(scope: string): string[] {
  const chain = ['/'];
  if (scope === '/') return chain;
  let slashes = 0;
  for (let i = 1; i < scope.length; i++) {
    // Scopes are name/value pairs, so an ancestor ends at every second slash.
    if (scope.charCodeAt(i) === 0x2f && ++slashes % 2 === 0) chain.push(scope.slice(0, i));
  }
  chain.push(scope);
  return chain;
}
