// Access-control routes live under any scope (`/{scope}/providers/Microsoft.Authorization/…`).
// The router cannot match a scope of variable length before a fixed suffix, so each route
// is registered once per scope depth and the scope is rebuilt from the path in one place.
import type { FastifyRequest } from 'fastify';
import type { RouteSpec } from '../api/route-spec.js';
import { parseScope, type ParsedScope } from '../resources/arm-scope.js';
import { paramsOf } from '../resources/arm-request.js';

const SUBSCRIPTION = '/subscriptions/:subscriptionId';
const GROUP = `${SUBSCRIPTION}/resourceGroups/:resourceGroupName`;
const RESOURCE = `${GROUP}/providers/:resourceProvider/:resourceType/:resourceName`;
const CHILD = `${RESOURCE}/:childType/:childName`;

/** Tenant root, subscription, resource group, resource, child resource (a machine's extension). */
export const SCOPE_PREFIXES = ['', SUBSCRIPTION, GROUP, RESOURCE, CHILD] as const;

/** The scope a request addresses, from whichever scope parameters its route has. */
export function scopeOf(request: FastifyRequest): ParsedScope {
  const p = paramsOf(request);
  let raw = '';
  if (p['subscriptionId'] !== undefined) raw += `/subscriptions/${p['subscriptionId']}`;
  if (p['resourceGroupName'] !== undefined) raw += `/resourceGroups/${p['resourceGroupName']}`;
  if (p['resourceProvider'] !== undefined) {
    raw += `/providers/${p['resourceProvider']}/${p['resourceType'] ?? ''}/${p['resourceName'] ?? ''}`;
  }
  if (p['childType'] !== undefined) raw += `/${p['childType']}/${p['childName'] ?? ''}`;
  return parseScope(raw === '' ? '/' : raw);
}

export const scopeAt = (request: FastifyRequest): string => scopeOf(request).scope;

/** One route per scope depth: `suffix` is appended to every scope prefix. */
export function atEveryScope(suffix: string, route: Omit<RouteSpec, 'url'>): RouteSpec[] {
  return SCOPE_PREFIXES.map((prefix) => ({ ...route, url: `${prefix}${suffix}` }));
}

/** `/subscriptions/{id}` of a scope, or '' at the tenant root, to prefix role definition ids. */
export function subscriptionPrefix(scope: ParsedScope | string): string {
  const parsed = typeof scope === 'string' ? parseScope(scope) : scope;
  return parsed.subscriptionId === undefined ? '' : `/subscriptions/${parsed.subscriptionId}`;
}
