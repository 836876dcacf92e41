// `/{tenant}/oauth2/v2.0/logout`: ends the browser session and revokes every refresh token of
// the person signed in there, then returns to the app (a loopback or registered address) or
// says so on a page.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RouteSpec } from '../api/route-spec.js';
import { cookies, pageHeaders, SESSION_COOKIE, setCookie } from './browser-session.js';
import type { CredentialStore } from './credential-store.js';
import type { IdentityEndpoints } from './identity-endpoints.js';
import { checkRedirectUri, peopleClient } from './people-clients.js';
import type { PeopleSignIn } from './people-sign-in.js';
import { renderPage } from './sign-in-page.js';

export interface LogoutServices {
  endpoints: IdentityEndpoints;
  credentials: CredentialStore;
  signIn: PeopleSignIn;
}

type Params = Record<string, string | undefined>;

export function logoutRoutes(services: LogoutServices): RouteSpec[] {
  const url = '/:tenant/oauth2/v2.0/logout';
  return (['GET', 'POST'] as const).map((method) => ({
    method,
    url,
    bodyLimit: 16 * 1024,
    access: { kind: 'public' },
    handler: ({ request, reply }) => logout(services, request, reply),
  }));
}

async function logout(
  services: LogoutServices,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<string> {
  const { endpoints } = services;
  const path = `/${endpoints.tenantId}/oauth2/`;
  const session = await services.signIn.session(cookies(request).get(SESSION_COOKIE));
  if (session !== undefined) await services.signIn.signOut(request, session.principal);
  setCookie(reply, SESSION_COOKIE, '', path, 0, 'Lax');
  const params = { ...(request.query as Params), ...((request.body ?? {}) as Params) };
  const back = await returnAddress(services, params);
  pageHeaders(reply);
  if (back !== undefined) {
    if (params['state'] !== undefined) back.searchParams.set('state', params['state']);
    void reply.code(302).header('location', back.toString());
    return '';
  }
  return renderPage({
    title: 'You have signed out',
    note: 'Your session has ended and the sign-ins it gave applications have been revoked. You can close this window.',
  });
}

/** Only an address the named client may use: never an open redirect. */
async function returnAddress(services: LogoutServices, params: Params): Promise<URL | undefined> {
  const uri = params['post_logout_redirect_uri'];
  if (uri === undefined || uri === '') return undefined;
  try {
    const client = await peopleClient(
      params['client_id'],
      services.credentials,
      services.endpoints,
    );
    checkRedirectUri(client, uri);
    return new URL(uri);
  } catch {
    return undefined;
  }
}
