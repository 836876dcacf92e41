// Where the identity service says it lives (issuer, token endpoint, JWKS) and which token
// audiences it serves: all derived from the one configured public URL and the tenant id.
import { IdentityError } from './identity-error.js';

/** What Azure SDK management clients ask for by default; accepted so they work unchanged. */
export const MANAGEMENT_AUDIENCE = 'https://management.azure.com/';

export interface IdentityEndpoints {
  tenantId: string;
  /** `https://host:port`, no trailing slash. */
  publicUrl: string;
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  /** Where MSAL asks for a device code: the token endpoint with /devicecode for /token. */
  deviceAuthorizationEndpoint: string;
  /** The page where a person enters a device code. */
  verificationUri: string;
  endSessionEndpoint: string;
  /** Where a client revokes a person's refresh token (RFC 7009). */
  revocationEndpoint: string;
  jwksUri: string;
  /** Every `aud` an access token may carry here, in each spelling clients use. */
  audiences: readonly string[];
  /** `https://host:port` of the web portal this server also serves, when it does. */
  portalUrl: string | undefined;
}

export function identityEndpoints(
  publicUrl: string,
  tenantId: string,
  portalUrl?: string,
): IdentityEndpoints {
  const base = normalizePublicUrl(publicUrl);
  return Object.freeze({
    tenantId,
    publicUrl: base,
    portalUrl: portalUrl === undefined ? undefined : normalizePublicUrl(portalUrl),
    issuer: `${base}/${tenantId}/v2.0`,
    authorizationEndpoint: `${base}/${tenantId}/oauth2/v2.0/authorize`,
    tokenEndpoint: `${base}/${tenantId}/oauth2/v2.0/token`,
    deviceAuthorizationEndpoint: `${base}/${tenantId}/oauth2/v2.0/devicecode`,
    verificationUri: `${base}/${tenantId}/oauth2/v2.0/deviceauth`,
    endSessionEndpoint: `${base}/${tenantId}/oauth2/v2.0/logout`,
    revocationEndpoint: `${base}/${tenantId}/oauth2/v2.0/revoke`,
    jwksUri: `${base}/${tenantId}/discovery/v2.0/keys`,
    audiences: Object.freeze([
      MANAGEMENT_AUDIENCE,
      MANAGEMENT_AUDIENCE.slice(0, -1),
      `${base}/`,
      base,
    ]),
  });
}

/**
 * The audience a token for `resource` gets (`https://management.azure.com/` or this server's
 * URL, each with a trailing slash), or undefined when this server does not serve it.
 */
export function audienceFor(resource: string, endpoints: IdentityEndpoints): string | undefined {
  const trimmed = resource.replace(/\/+$/, '').toLowerCase();
  if (trimmed === MANAGEMENT_AUDIENCE.slice(0, -1)) return MANAGEMENT_AUDIENCE;
  if (trimmed === endpoints.publicUrl.toLowerCase()) return `${endpoints.publicUrl}/`;
  return undefined;
}

/** `https://HOST[:PORT]` with nothing after it; anything else is refused with the reason. */
export function normalizePublicUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new IdentityError(
      'ERR_PUBLIC_URL',
      `public URL ${JSON.stringify(raw)} is not a URL; expected https://HOST:PORT`,
    );
  }
  const problem =
    url.protocol !== 'https:'
      ? 'it must use https (the Azure SDK refuses bearer tokens over http)'
      : url.username !== '' || url.password !== ''
        ? 'it must not carry a user name or password'
        : url.pathname !== '/' || url.search !== '' || url.hash !== ''
          ? 'it must not have a path, query or fragment'
          : undefined;
  if (problem !== undefined) {
    throw new IdentityError(
      'ERR_PUBLIC_URL',
      `public URL ${JSON.stringify(raw)} is not valid: ${problem}; expected https://HOST:PORT`,
    );
  }
  return url.origin;
}
