// `/{tenant}/oauth2/v2.0/authorize`: the authorization code flow with PKCE S256 for people.
// GET shows the sign-in page (or, with a live session, answers at once); POST checks the
// password. Until the client and redirect URI are known good, refusals are pages; after, they
// are redirects carrying `error`, as OAuth clients expect.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RouteSpec } from '../api/route-spec.js';
import {
  cookies,
  csrfValid,
  issueCsrf,
  pageHeaders,
  SESSION_COOKIE,
  SESSION_LIFETIME_MS,
  setCookie,
} from './browser-session.js';
import type { CredentialStore } from './credential-store.js';
import type { IdentityEndpoints } from './identity-endpoints.js';
import { OAuthError } from './oauth-error.js';
import { isOwnTenant, tenantNotFound } from './own-tenant.js';
import { checkRedirectUri, peopleClient } from './people-clients.js';
import { parsePeopleScopes } from './people-scopes.js';
import { SIGN_IN_OPERATIONS, type PeopleSignIn } from './people-sign-in.js';
import { isS256Challenge } from './pkce.js';
import { renderPage } from './sign-in-page.js';

export interface AuthorizeServices {
  endpoints: IdentityEndpoints;
  credentials: CredentialStore;
  signIn: PeopleSignIn;
}

type Params = Record<string, string | undefined>;

/** Stands for a redirect with `error` to the client's own redirect URI. */
class RedirectError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
  ) {
    super(description);
  }
}

export function authorizeRoutes(services: AuthorizeServices): RouteSpec[] {
  const url = '/:tenant/oauth2/v2.0/authorize';
  return [
    {
      method: 'GET',
      url,
      access: { kind: 'public' },
      handler: ({ request, reply }) => authorize(services, request, reply, false),
    },
    {
      method: 'POST',
      url,
      // A user name, a password and a CSRF token.
      bodyLimit: 16 * 1024,
      access: { kind: 'public' },
      handler: ({ request, reply }) => authorize(services, request, reply, true),
    },
  ];
}

async function authorize(
  services: AuthorizeServices,
  request: FastifyRequest,
  reply: FastifyReply,
  posted: boolean,
): Promise<string> {
  const { endpoints } = services;
  const params = request.query as Params;
  const tenant = (request.params as Params)['tenant'] ?? '';
  const path = `/${endpoints.tenantId}/oauth2/`;
  pageHeaders(reply);
  if (tenant.toLowerCase() !== endpoints.tenantId.toLowerCase()) {
    if (!posted && isOwnTenant(tenant, endpoints)) {
      // `organizations`/`common`: the same request at the tenant's own address, where the
      // session and CSRF cookies (scoped to the tenant's path) belong.
      const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
      void reply.code(302).header('location', `${endpoints.authorizationEndpoint}${query}`);
      return '';
    }
    void reply.code(404);
    return renderPage({ title: 'Cannot sign in', error: tenantNotFound(tenant, endpoints) });
  }
  let redirectUri: string;
  let clientId: string;
  try {
    const client = await peopleClient(params['client_id'], services.credentials, endpoints);
    checkRedirectUri(client, params['redirect_uri']);
    redirectUri = params['redirect_uri'] ?? '';
    clientId = client.clientId;
  } catch (error) {
    if (!(error instanceof OAuthError)) throw error;
    void reply.code(400);
    return renderPage({ title: 'Cannot sign in', error: error.description });
  }
  const target = new URL(redirectUri);
  pageHeaders(reply, [target.origin]);
  try {
    const request_ = checkRequest(params, endpoints);
    const codeRequest = { ...request_, clientId, redirectUri };
    const prompt = params['prompt'];
    if (!posted) {
      const session = await services.signIn.session(cookies(request).get(SESSION_COOKIE));
      if (session !== undefined && prompt !== 'login') {
        return redirect(reply, target, {
          code: await services.signIn.issueCode(session, codeRequest),
          state: params['state'],
        });
      }
      if (prompt === 'none') throw new RedirectError('login_required', 'No one is signed in.');
      return signInPage(reply, request, path, clientId, params['login_hint'] ?? '');
    }
    const body = (request.body ?? {}) as Params;
    if (body['cancel'] !== undefined && csrfValid(request, body['csrf_token'])) {
      // The person declined: the application hears so, as OAuth says, and nothing is issued.
      throw new RedirectError('access_denied', 'The user declined to sign in.');
    }
    if (!csrfValid(request, body['csrf_token'])) {
      void reply.code(400);
      return signInPage(
        reply,
        request,
        path,
        clientId,
        body['username'] ?? '',
        'The sign-in form expired. Please sign in again.',
      );
    }
    let user;
    try {
      user = await services.signIn.checkPassword(
        request,
        body['username'] ?? '',
        body['password'] ?? '',
        SIGN_IN_OPERATIONS.signIn,
        clientId,
      );
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      return failedSignIn(reply, request, path, clientId, body['username'] ?? '', error);
    }
    const cookie = await services.signIn.startSession(user);
    setCookie(reply, SESSION_COOKIE, cookie, path, SESSION_LIFETIME_MS / 1000, 'Lax');
    return redirect(reply, target, {
      code: await services.signIn.issueCode(user, codeRequest),
      state: params['state'],
    });
  } catch (error) {
    if (error instanceof RedirectError) {
      return redirect(reply, target, {
        error: error.error,
        error_description: error.description,
        state: params['state'],
      });
    }
    throw error;
  }
}

function checkRequest(params: Params, endpoints: IdentityEndpoints) {
  if (params['response_type'] !== 'code') {
    throw new RedirectError(
      'unsupported_response_type',
      `response_type '${(params['response_type'] ?? '').slice(0, 40)}' is not supported; use 'code'.`,
    );
  }
  const mode = params['response_mode'];
  if (mode !== undefined && mode !== 'query') {
    throw new RedirectError(
      'invalid_request',
      `response_mode '${mode.slice(0, 40)}' is not supported; use 'query'.`,
    );
  }
  const challenge = params['code_challenge'] ?? '';
  if (params['code_challenge_method'] !== 'S256' || !isS256Challenge(challenge)) {
    throw new RedirectError(
      'invalid_request',
      'PKCE is required: send code_challenge (43 base64url characters) with code_challenge_method=S256.',
    );
  }
  try {
    parsePeopleScopes(params['scope'], endpoints);
  } catch (error) {
    if (error instanceof OAuthError) throw new RedirectError(error.error, error.description);
    throw error;
  }
  return { codeChallenge: challenge, scope: params['scope'] ?? '', nonce: params['nonce'] ?? null };
}

function signInPage(
  reply: FastifyReply,
  request: FastifyRequest,
  path: string,
  clientId: string,
  userName: string,
  error?: string,
): string {
  return renderPage({
    title: 'Sign in',
    note: `Sign in to application ${clientId} with your Tether account.`,
    ...(error === undefined ? {} : { error }),
    action: request.url,
    csrf: issueCsrf(reply, path, request),
    fields: [
      {
        name: 'username',
        label: 'User name',
        type: 'text',
        value: userName,
        autocomplete: 'username',
      },
      { name: 'password', label: 'Password', type: 'password', autocomplete: 'current-password' },
    ],
    cancel: 'Cancel',
  });
}

export function failedSignIn(
  reply: FastifyReply,
  request: FastifyRequest,
  path: string,
  clientId: string,
  userName: string,
  error: OAuthError,
  page: (message: string) => string = (message) =>
    signInPage(reply, request, path, clientId, userName, message),
): string {
  if (error.retryAfterSeconds !== undefined) {
    void reply.code(429).header('retry-after', String(error.retryAfterSeconds));
    return page(`Too many failed sign-ins. Try again in ${error.retryAfterSeconds} seconds.`);
  }
  void reply.code(400);
  return page('The user name or password is not correct.');
}

function redirect(
  reply: FastifyReply,
  target: URL,
  values: Record<string, string | undefined>,
): string {
  const location = new URL(target);
  for (const [key, value] of Object.entries(values)) {
    if (value !== undefined) location.searchParams.set(key, value);
  }
  void reply.code(302).header('location', location.toString()).type('text/plain; charset=utf-8');
  return '';
}
