// ARM scopes ('/', '/subscriptions/{id}', '…/resourceGroups/{rg}', resource ids): one
// canonical spelling, and the segment-wise ancestry on which role inheritance rests.
import { RbacError } from './rbac-error.js';

/** Longer than any real ARM id; bounds the work a hostile scope can cause. */
const MAX_SCOPE_LENGTH = 2048;

/** Characters that have no place in an ARM id and would make two spellings of one scope. */
const FORBIDDEN_CHARACTERS = /[\s\\?#*%\p{Cc}]/u;

const SLASH = 0x2f;
const DOT = 0x2e;

const EXPECTED =
  'expected "/", "/subscriptions/{id}", "/subscriptions/{id}/resourceGroups/{name}" or a resource id below them';

/**
 * Lower-cases a scope (ARM scopes are case-insensitive), tolerates a doubled leading slash
 * and trailing slashes, and rejects anything that is not a well-formed scope.
 */
export function normalizeScope(raw: string): string {
  const scope = typeof raw === 'string' ? tryNormalize(raw) : undefined;
  if (scope === undefined) throw explain(raw);
  return scope;
}

/**
 * The fast path, run on every permission check: a native regex scan for bad characters and
 * a hop from slash to slash, so the cost is a few calls rather than a loop per character.
 */
function tryNormalize(raw: string): string | undefined {
  if (raw.length === 0 || raw.length > MAX_SCOPE_LENGTH || raw.charCodeAt(0) !== SLASH) {
    return undefined;
  }
  if (FORBIDDEN_CHARACTERS.test(raw)) return undefined;
  let end = raw.length;
  while (end > 0 && raw.charCodeAt(end - 1) === SLASH) end--;
  const start = raw.charCodeAt(1) === SLASH ? 1 : 0;
  if (end <= start) return '/';
  let segments = 0;
  for (let from = start + 1; from <= end; segments++) {
    let next = raw.indexOf('/', from);
    if (next < 0 || next > end) next = end;
    const length = next - from;
    if (length === 0 || (length <= 2 && isDots(raw, from, length))) return undefined;
    from = next + 1;
  }
  if (segments % 2 !== 0) return undefined;
  const scope = raw.slice(start, end).toLowerCase();
  return scope.startsWith('/subscriptions/') || scope.startsWith('/providers/') ? scope : undefined;
}

function isDots(raw: string, at: number, length: number): boolean {
  return raw.charCodeAt(at) === DOT && (length === 1 || raw.charCodeAt(at + 1) === DOT);
}

/** The slow path, taken only for bad input: finds what is wrong and says so. */
function explain(raw: string): RbacError {
  const invalid = (why: string): RbacError =>
    new RbacError(
      'ERR_INVALID_SCOPE',
      `scope ${JSON.stringify(raw)} is not valid: ${why}; ${EXPECTED}`,
      { target: 'scope' },
    );
  if (typeof raw !== 'string' || raw.length === 0) return invalid('it is empty');
  if (raw.length > MAX_SCOPE_LENGTH) {
    return invalid(`it is longer than ${MAX_SCOPE_LENGTH} characters`);
  }
  if (!raw.startsWith('/')) return invalid('it does not start with "/"');
  if (FORBIDDEN_CHARACTERS.test(raw)) {
    return invalid('it contains whitespace, a control character or one of \\ ? # * %');
  }
  const segments = raw
    .replace(/^\/\/?/, '')
    .replace(/\/+$/, '')
    .toLowerCase()
    .split('/');
  if (segments.some((s) => s.length === 0)) return invalid('it has an empty segment');
  if (segments.some((s) => s === '.' || s === '..')) return invalid('it has a "." or ".." segment');
  if (segments[0] !== 'subscriptions' && segments[0] !== 'providers') {
    return invalid('it must begin with "/subscriptions/" or "/providers/"');
  }
  if (segments.length % 2 !== 0) return invalid(`"${segments.at(-1) ?? ''}" has no name after it`);
  return invalid('it is not a scope');
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
  // Scopes are name/value pairs, so an ancestor ends at every second slash.
  for (let at = scope.indexOf('/', 1); at > 0;) {
    at = scope.indexOf('/', at + 1);
    if (at < 0) break;
    chain.push(scope.slice(0, at));
    at = scope.indexOf('/', at + 1);
  }
  chain.push(scope);
  return chain;
}
