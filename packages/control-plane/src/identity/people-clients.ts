// Which applications people may sign in to, and where the answer may be sent: the public client
// the Azure CLI and @azure/identity use by default (any loopback port, RFC 8252), any
// registered application the same way, a registered application's own redirect URIs, and the
// portal's public client, whose one redirect URI is the portal this server serves.
import type { CredentialStore } from './credential-store.js';
import type { IdentityEndpoints } from './identity-endpoints.js';
import { OAuthError } from './oauth-error.js';

/** The Azure CLI's public client id: @azure/identity's default for people's credentials. */
export const AZURE_CLI_CLIENT_ID = '04b07795-8ddb-461a-bbee-02f9e1bf7b46';

/**
 * The web portal's public client id: built in like the Azure CLI's, it signs in with PKCE and no
 * secret, and may be sent back only to the portal's own origin.
 */
export const TETHER_PORTAL_CLIENT_ID = '7e1a7b4c-3f0d-4b6e-9c52-1d8f0a6e2b94';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface PeopleClient {
  clientId: string;
  /** A registered application, which may have redirect URIs of its own and a secret. */
  registered: boolean;
  replyUrls: readonly string[];
  /** A public client (no secret) even at its registered redirect URIs: the portal. */
  publicClient?: boolean;
}

/** `http://localhost|127.0.0.1|[::1][:port][/path]`: a native app's own listener. */
export function isLoopbackRedirect(uri: string): boolean {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return false;
  }
  return (
    url.protocol === 'http:' &&
    ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname) &&
    url.username === '' &&
    url.password === '' &&
    url.hash === ''
  );
}

export async function peopleClient(
  clientId: string | undefined,
  store: CredentialStore,
  endpoints: IdentityEndpoints,
): Promise<PeopleClient> {
  if (clientId === undefined || clientId === '') {
    throw new OAuthError(
      'invalid_request',
      900144,
      "The request must contain the parameter 'client_id'.",
    );
  }
  const id = clientId.toLowerCase();
  if (id === AZURE_CLI_CLIENT_ID) return { clientId: id, registered: false, replyUrls: [] };
  if (id === TETHER_PORTAL_CLIENT_ID && endpoints.portalUrl !== undefined) {
    const replyUrls = [`${endpoints.portalUrl}/`];
    return { clientId: id, registered: true, replyUrls, publicClient: true };
  }
  const principal = GUID.test(id) ? await store.servicePrincipalByAppId(id) : undefined;
  if (principal === undefined || principal.machine_id !== null) {
    throw new OAuthError(
      'unauthorized_client',
      700016,
      `Application with identifier '${clientId.slice(0, 100)}' was not found in the directory '${endpoints.tenantId}'. People sign in to '${AZURE_CLI_CLIENT_ID}' (the Azure CLI's client id, @azure/identity's default) or to a registered application's appId.`,
    );
  }
  return { clientId: id, registered: true, replyUrls: replyUrlsOf(principal.reply_urls) };
}

/** Refuses a redirect URI the client may not use; true when it is a registered web one. */
export function checkRedirectUri(client: PeopleClient, redirectUri: string | undefined): boolean {
  if (redirectUri === undefined || redirectUri === '') {
    throw new OAuthError(
      'invalid_request',
      900144,
      "The request must contain the parameter 'redirect_uri'.",
    );
  }
  if (client.replyUrls.includes(redirectUri)) {
    return client.publicClient !== true && !isLoopbackRedirect(redirectUri);
  }
  if (isLoopbackRedirect(redirectUri)) return false;
  throw new OAuthError(
    'invalid_request',
    50011,
    `The redirect URI '${redirectUri.slice(0, 200)}' does not match the redirect URIs configured for the application '${client.clientId}'. Native apps use http://localhost:<any port>; a web app registers its redirect URIs first.`,
  );
}

function replyUrlsOf(stored: string | null | undefined): string[] {
  if (stored === null || stored === undefined) return [];
  try {
    const parsed = JSON.parse(stored) as unknown;
    return Array.isArray(parsed) ? parsed.filter((u): u is string => typeof u === 'string') : [];
  } catch {
    // Unreadable: no redirect URI is registered (fail closed).
    return [];
  }
}
