// The `scope` of a person's token request: OIDC scopes (openid, profile, offline_access) and at
// most one resource (`<resource>/.default` or `<resource>/user_impersonation`) the token is for.
import { audienceFor, MANAGEMENT_AUDIENCE, type IdentityEndpoints } from './identity-endpoints.js';
import { OAuthError } from './oauth-error.js';

const OIDC_SCOPES = new Set(['openid', 'profile', 'offline_access', 'email']);

export interface PeopleScopes {
  /** The access token's `aud`. */
  audience: string;
  /** What the answer's `scope` says was granted: the resource scope as asked. */
  granted: string;
  /** A refresh token is issued only when asked for. */
  offlineAccess: boolean;
}

export function parsePeopleScopes(
  scope: string | undefined,
  endpoints: IdentityEndpoints,
): PeopleScopes {
  const scopes = (scope ?? '').split(' ').filter((s) => s !== '');
  const resources = scopes.filter((s) => !OIDC_SCOPES.has(s));
  if (resources.length > 1) {
    throw new OAuthError(
      'invalid_scope',
      28000,
      `The scope '${(scope ?? '').slice(0, 200)}' names ${resources.length} resources; ask for one at a time, such as '${MANAGEMENT_AUDIENCE}.default'.`,
    );
  }
  const offlineAccess = scopes.includes('offline_access');
  const only = resources[0];
  if (only === undefined) {
    return {
      audience: `${endpoints.publicUrl}/`,
      granted: `${endpoints.publicUrl}/.default`,
      offlineAccess,
    };
  }
  const match = /^(.*\/)(\.default|user_impersonation)$/.exec(only);
  const audience = match?.[1] === undefined ? undefined : audienceFor(match[1], endpoints);
  if (audience === undefined) {
    throw new OAuthError(
      'invalid_scope',
      500011,
      `The scope '${only.slice(0, 200)}' is not one this server grants; it issues tokens for '${MANAGEMENT_AUDIENCE}.default' and '${endpoints.publicUrl}/.default'.`,
    );
  }
  return { audience, granted: only, offlineAccess };
}
