// The device code flow's two ends: `POST /{tenant}/oauth2/v2.0/devicecode` (where MSAL asks,
// having replaced /token with /devicecode) and the verification page where the person enters
// the code and signs in.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RouteSpec } from '../api/route-spec.js';
import type { Clock } from '../clock.js';
import { failedSignIn } from './authorize-route.js';
import { csrfValid, issueCsrf, pageHeaders } from './browser-session.js';
import type { CredentialStore } from './credential-store.js';
import type { DeviceCodes } from './device-codes.js';
import type { IdentityEndpoints } from './identity-endpoints.js';
import { OAuthError, sendOAuthError } from './oauth-error.js';
import { checkTenant } from './own-tenant.js';
import { peopleClient } from './people-clients.js';
import { parsePeopleScopes } from './people-scopes.js';
import { SIGN_IN_OPERATIONS, type PeopleSignIn } from './people-sign-in.js';
import { renderPage } from './sign-in-page.js';
import type { SignInThrottle } from './sign-in-throttle.js';

export interface DeviceCodeRouteServices {
  endpoints: IdentityEndpoints;
  credentials: CredentialStore;
  deviceCodes: DeviceCodes;
  signIn: PeopleSignIn;
  clock: Clock;
  /** Wrong user codes per address: 20^8 codes, but guessing is slowed all the same. */
  codeThrottle: SignInThrottle;
}

type Params = Record<string, string | undefined>;

export const VERIFICATION_PATH = 'oauth2/v2.0/deviceauth';

export function deviceCodeRoutes(services: DeviceCodeRouteServices): RouteSpec[] {
  const { endpoints } = services;
  return [
    {
      method: 'POST',
      url: '/:tenant/oauth2/v2.0/devicecode',
      bodyLimit: 16 * 1024,
      access: { kind: 'public' },
      async handler({ request, reply }) {
        void reply.header('cache-control', 'no-store');
        try {
          checkTenant(request, endpoints);
          const body = formBody(request);
          const client = await peopleClient(body['client_id'], services.credentials, endpoints);
          parsePeopleScopes(body['scope'], endpoints);
          return await services.deviceCodes.start(client.clientId, body['scope'] ?? '');
        } catch (error) {
          if (!(error instanceof OAuthError)) throw error;
          return sendOAuthError(request, reply, error, services.clock);
        }
      },
    },
    {
      method: 'GET',
      url: `/:tenant/${VERIFICATION_PATH}`,
      access: { kind: 'public' },
      handler: ({ request, reply }) => Promise.resolve(page(services, request, reply)),
    },
    {
      method: 'POST',
      url: `/:tenant/${VERIFICATION_PATH}`,
      bodyLimit: 16 * 1024,
      access: { kind: 'public' },
      handler: ({ request, reply }) => approve(services, request, reply),
    },
  ];
}

function page(
  services: DeviceCodeRouteServices,
  request: FastifyRequest,
  reply: FastifyReply,
  values: Params = {},
  error?: string,
): string {
  const { endpoints } = services;
  pageHeaders(reply);
  return renderPage({
    title: 'Sign in on another device',
    note: 'Enter the code your device shows, then sign in with your Tether account.',
    ...(error === undefined ? {} : { error }),
    action: `/${endpoints.tenantId}/${VERIFICATION_PATH}`,
    csrf: issueCsrf(reply, `/${endpoints.tenantId}/oauth2/`, request),
    fields: [
      {
        name: 'user_code',
        label: 'Code',
        type: 'text',
        value: values['user_code'] ?? (request.query as Params)['code'] ?? '',
        autocomplete: 'one-time-code',
      },
      {
        name: 'username',
        label: 'User name',
        type: 'text',
        value: values['username'] ?? '',
        autocomplete: 'username',
      },
      { name: 'password', label: 'Password', type: 'password', autocomplete: 'current-password' },
    ],
    submit: 'Sign in',
  });
}

async function approve(
  services: DeviceCodeRouteServices,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<string> {
  const body = (request.body ?? {}) as Params;
  const kept = { user_code: body['user_code'] ?? '', username: body['username'] ?? '' };
  if (!csrfValid(request, body['csrf_token'])) {
    void reply.code(400);
    return page(services, request, reply, kept, 'The form expired. Please enter the code again.');
  }
  try {
    await services.codeThrottle.check('device-code', request.ip);
  } catch (error) {
    if (!(error instanceof OAuthError)) throw error;
    return failedSignIn(reply, request, '', '', '', error, (message) =>
      page(services, request, reply, kept, message),
    );
  }
  const pending = await services.deviceCodes.pending(kept.user_code);
  if (pending === undefined) {
    await services.codeThrottle.failed('device-code', request.ip);
    void reply.code(400);
    return page(
      services,
      request,
      reply,
      kept,
      'That code is not valid or has expired. Check the code your device shows.',
    );
  }
  let user;
  try {
    user = await services.signIn.checkPassword(
      request,
      kept.username,
      body['password'] ?? '',
      SIGN_IN_OPERATIONS.deviceCode,
      pending.client_id,
    );
  } catch (error) {
    if (!(error instanceof OAuthError)) throw error;
    return failedSignIn(reply, request, '', '', '', error, (message) =>
      page(services, request, reply, kept, message),
    );
  }
  await services.deviceCodes.approve(pending, user.principal.id, user.credential.id);
  pageHeaders(reply);
  return renderPage({
    title: 'You are signed in',
    note: `${user.principal.user_principal_name ?? ''} is signed in to application ${pending.client_id} on your device. You can close this window.`,
  });
}

function formBody(request: FastifyRequest): Params {
  const type = String(request.headers['content-type'] ?? '');
  if (
    !type.toLowerCase().startsWith('application/x-www-form-urlencoded') ||
    typeof request.body !== 'object' ||
    request.body === null
  ) {
    throw new OAuthError(
      'invalid_request',
      900144,
      'The request body must be form-encoded (application/x-www-form-urlencoded) and contain client_id and scope.',
    );
  }
  return request.body as Params;
}
