// `POST /{tenant}/oauth2/v2.0/revoke` (RFC 7009): a client gives up a person's refresh token,
// as `tether logout` does, and every token of that sign-in stops working. Holding the token is
// the proof; an unknown token is answered like a revoked one, so the endpoint tells nothing.
import type { FastifyRequest } from 'fastify';
import type { RouteSpec } from '../api/route-spec.js';
import type { Clock } from '../clock.js';
import type { IdentityEndpoints } from './identity-endpoints.js';
import { OAuthError, sendOAuthError } from './oauth-error.js';
import { checkTenant } from './own-tenant.js';
import type { RefreshTokens } from './refresh-tokens.js';

export interface RevokeServices {
  endpoints: IdentityEndpoints;
  refreshTokens: RefreshTokens;
  clock: Clock;
}

type Params = Record<string, string | undefined>;

export function revokeRoute(services: RevokeServices): RouteSpec {
  return {
    method: 'POST',
    url: '/:tenant/oauth2/v2.0/revoke',
    bodyLimit: 16 * 1024,
    access: { kind: 'public' },
    async handler({ request, reply }) {
      void reply.header('cache-control', 'no-store');
      try {
        checkTenant(request, services.endpoints);
        const body = formBody(request);
        const token = body['token'];
        const clientId = body['client_id'];
        if (token === undefined || token === '') throw missing('token');
        if (clientId === undefined || clientId === '') throw missing('client_id');
        const hint = body['token_type_hint'];
        if (hint !== undefined && hint !== 'refresh_token') {
          throw new OAuthError(
            'invalid_request',
            900144,
            `token_type_hint '${hint.slice(0, 40)}' is not supported: only refresh tokens are revoked here; access tokens expire on their own within the hour.`,
          );
        }
        await services.refreshTokens.revoke(token, clientId);
        return {};
      } catch (error) {
        if (!(error instanceof OAuthError)) throw error;
        return sendOAuthError(request, reply, error, services.clock);
      }
    },
  };
}

function missing(name: string): OAuthError {
  return new OAuthError(
    'invalid_request',
    900144,
    `The request body must contain the following parameter: '${name}'.`,
  );
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
      'The request body must be form-encoded (application/x-www-form-urlencoded) and contain token and client_id.',
    );
  }
  return request.body as Params;
}
