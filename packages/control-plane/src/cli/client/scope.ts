// ARM scopes as users type them: validated, normalized, compared and turned into request paths.
import { usageError } from './cli-error.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isGuid(value: string): boolean {
  return GUID.test(value);
}

/**
 * Accepts '/', '/subscriptions/{guid}' and anything below it (resource groups, resources);
 * tolerates a doubled leading slash and a trailing slash. Keeps the caller's spelling.
 */
export function parseScope(text: string, flag = '--scope'): string {
  const expected =
    "expected '/', '/subscriptions/{id}', '/subscriptions/{id}/resourceGroups/{name}' or a resource id";
  const trimmed = text.trim().replace(/^\/\//, '/').replace(/\/+$/, '');
  if (trimmed === '') {
    if (text.trim().startsWith('/')) return '/';
    throw usageError(`${flag} '${text}' is not a scope: ${expected}.`, flag);
  }
  if (!trimmed.startsWith('/')) {
    throw usageError(
      `${flag} '${text}' is not a scope: it must start with '/'; ${expected}.`,
      flag,
    );
  }
  const segments = trimmed.slice(1).split('/');
  for (const segment of segments) {
    if (segment === '' || segment === '.' || segment === '..' || /[\s?#%\\]/.test(segment)) {
      throw usageError(
        `${flag} '${text}' has an invalid path segment '${segment}': segments are non-empty and contain no spaces, '?', '#', '%' or '\\'.`,
        flag,
      );
    }
  }
  if (segments[0]?.toLowerCase() !== 'subscriptions' || !isGuid(segments[1] ?? '')) {
    throw usageError(`${flag} '${text}' is not a scope: ${expected}.`, flag);
  }
  return trimmed;
}

export function subscriptionScope(subscriptionId: string): string {
  return `/subscriptions/${subscriptionId}`;
}

export function resourceGroupScope(subscriptionId: string, resourceGroup: string): string {
  return `${subscriptionScope(subscriptionId)}/resourceGroups/${resourceGroup}`;
}

export function machineId(subscriptionId: string, resourceGroup: string, name: string): string {
  return `${resourceGroupScope(subscriptionId, resourceGroup)}/providers/Microsoft.HybridCompute/machines/${name}`;
}

/** The scope as a URL path, each segment percent-encoded; '' for the tenant root. */
export function scopePath(scope: string): string {
  if (scope === '/') return '';
  return scope
    .split('/')
    .slice(1)
    .map((segment) => `/${encodeURIComponent(segment)}`)
    .join('');
}

/** Whether `ancestor` is `scope` or lies above it; ARM compares scopes case-insensitively. */
export function isSameOrAncestorScope(ancestor: string, scope: string): boolean {
  const a = ancestor.toLowerCase().replace(/\/+$/, '');
  const s = scope.toLowerCase().replace(/\/+$/, '');
  return a === '' || a === s || s.startsWith(`${a}/`);
}

export function sameScope(a: string, b: string): boolean {
  return a.toLowerCase().replace(/\/+$/, '') === b.toLowerCase().replace(/\/+$/, '');
}

/** The resource group segment of an ARM id, as spelled there. */
export function resourceGroupOf(id: string): string | undefined {
  const match = /\/resourceGroups\/([^/]+)/i.exec(id);
  return match?.[1];
}
