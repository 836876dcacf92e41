// OIDC discovery and the JWKS: where msal-node finds the token endpoint, and where anyone
// checking Tether's tokens finds the keys (the current one and those still accepted).
// Also under the `organizations`/`common` aliases and an AD FS-shaped authority (`/adfs`),
// which MSAL Python reads directly instead of asking the public cloud's instance discovery.
import type { RouteSpec } from '../api/route-spec.js';
import type { IdentityEndpoints } from './identity-endpoints.js';
import { OAuthError, sendOAuthError } from './oauth-error.js';
import { isOwnTenant, tenantNotFound } from './own-tenant.js';
import type { Clock } from '../clock.js';
import { ACCESS_TOKEN_ALGORITHM, type SigningKeyRing } from './signing-key-ring.js';

export { TENANT_ALIASES } from './own-tenant.js';

/** The AD FS-shaped authority (`https://HOST:PORT/adfs`) the Azure CLI is pointed at. */
export const ADFS_AUTHORITY_PATH = '/adfs';

export interface DiscoveryServices {
  endpoints: IdentityEndpoints;
  keys: SigningKeyRing;
  clock: Clock;
}

export function discoveryRoutes(services: DiscoveryServices): RouteSpec[] {
  const { endpoints, keys, clock } = services;
  const forTenant =
    (answer: () => unknown): RouteSpec['handler'] =>
    ({ request, reply }) => {
      const tenant = (request.params as Record<string, string | undefined>)['tenant'] ?? '';
      if (!isOwnTenant(tenant, endpoints)) {
        const error = new OAuthError('invalid_request', 90002, tenantNotFound(tenant, endpoints));
        return Promise.resolve(sendOAuthError(request, reply, error, clock));
      }
      void reply.header('cache-control', 'max-age=300');
      return Promise.resolve(answer());
    };
  return [
    {
      method: 'GET',
      url: '/:tenant/v2.0/.well-known/openid-configuration',
      access: { kind: 'public' },
      handler: forTenant(() => openidConfiguration(endpoints)),
    },
    {
      method: 'GET',
      url: `${ADFS_AUTHORITY_PATH}/.well-known/openid-configuration`,
      access: { kind: 'public' },
      handler: ({ reply }) => {
        void reply.header('cache-control', 'max-age=300');
        return Promise.resolve(openidConfiguration(endpoints));
      },
    },
    {
      method: 'GET',
      url: '/:tenant/discovery/v2.0/keys',
      access: { kind: 'public' },
      handler: forTenant(() => keys.jwks()),
    },
  ];
}

function openidConfiguration(endpoints: IdentityEndpoints) {
  return {
    issuer: endpoints.issuer,
    authorization_endpoint: endpoints.authorizationEndpoint,
    token_endpoint: endpoints.tokenEndpoint,
    device_authorization_endpoint: endpoints.deviceAuthorizationEndpoint,
    end_session_endpoint: endpoints.endSessionEndpoint,
    revocation_endpoint: endpoints.revocationEndpoint,
    jwks_uri: endpoints.jwksUri,
    token_endpoint_auth_methods_supported: ['none', 'client_secret_post', 'private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ['RS256', 'PS256', 'ES256'],
    grant_types_supported: [
      'client_credentials',
      'authorization_code',
      'refresh_token',
      'urn:ietf:params:oauth:grant-type:device_code',
    ],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    code_challenge_methods_supported: ['S256'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: [ACCESS_TOKEN_ALGORITHM],
    scopes_supported: ['openid', 'profile', 'offline_access', '.default'],
    claims_supported: [
      'aud',
      'iss',
      'iat',
      'nbf',
      'exp',
      'tid',
      'oid',
      'sub',
      'appid',
      'appidacr',
      'idtyp',
      'name',
      'preferred_username',
      'nonce',
      'upn',
    ],
    tenant_region_scope: null,
    cloud_instance_name: new URL(endpoints.publicUrl).host,
    request_uri_parameter_supported: false,
  };
}
