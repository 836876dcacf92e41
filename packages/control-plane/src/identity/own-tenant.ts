// The `{tenant}` path segment of the identity endpoints: this installation's tenant id, or one
// of the aliases clients use when they do not know it (`organizations`, `common`).
import type { FastifyRequest } from 'fastify';
import type { IdentityEndpoints } from './identity-endpoints.js';
import { OAuthError } from './oauth-error.js';

/**
 * What clients call the installation's one tenant when they do not know its id: the Azure CLI
 * signs out through `organizations`, other tools use `common`.
 */
export const TENANT_ALIASES = ['organizations', 'common'] as const;

export function isOwnTenant(tenant: string, endpoints: IdentityEndpoints): boolean {
  const key = tenant.toLowerCase();
  return (
    key === endpoints.tenantId.toLowerCase() || (TENANT_ALIASES as readonly string[]).includes(key)
  );
}

export function tenantNotFound(tenant: string, endpoints: IdentityEndpoints): string {
  return `Tenant '${tenant.slice(0, 100)}' not found. This server's tenant is '${endpoints.tenantId}' (also reachable as ${TENANT_ALIASES.map((a) => `'${a}'`).join(' and ')}).`;
}

/** Refuses a request whose `{tenant}` is neither this tenant nor an alias of it. */
export function checkTenant(request: FastifyRequest, endpoints: IdentityEndpoints): void {
  const tenant = (request.params as Record<string, string | undefined>)['tenant'] ?? '';
  if (!isOwnTenant(tenant, endpoints)) {
    throw new OAuthError('invalid_request', 90002, tenantNotFound(tenant, endpoints));
  }
}
