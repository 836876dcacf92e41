// `POST /{tenant}/oauth2/v2.0/token`: the client-credentials grant, answered as Entra answers
// it so that msal-node (under @azure/identity) accepts the tokens and understands refusals.
import type { FastifyRequest } from 'fastify';
import type { RouteSpec } from '../api/route-spec.js';
import type { Clock } from '../clock.js';
import type { AccessTokenIssuer } from './access-token-issuer.js';
import type { ClientAuthenticator, ClientProof } from './client-authenticator.js';
import { audienceFor, MANAGEMENT_AUDIENCE, type IdentityEndpoints } from './identity-endpoints.js';
import { OAuthError, sendOAuthError } from './oauth-error.js';
import { checkTenant } from './own-tenant.js';
import { PeopleGrants, type PeopleGrantBody } from './people-grants.js';

export interface TokenRouteServices {
  endpoints: IdentityEndpoints;
  clients: ClientAuthenticator;
  issuer: AccessTokenIssuer;
  clock: Clock;
  /** People's grants: authorization code, refresh token, device code. */
  people: PeopleGrants;
}

type TokenRequestBody = ClientProof & { grant_type?: string; scope?: string };

export function tokenRoute(services: TokenRouteServices): RouteSpec {
  return {
    method: 'POST',
    url: '/:tenant/oauth2/v2.0/token',
    // Credentials and a scope: a few kilobytes at most (a client assertion is the largest part).
    bodyLimit: 64 * 1024,
    access: { kind: 'public' },
    async handler({ request, reply }) {
      void reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
      try {
        return await grant(services, request);
      } catch (error) {
        if (!(error instanceof OAuthError)) throw error;
        return sendOAuthError(request, reply, error, services.clock);
      }
    },
  };
}

async function grant(services: TokenRouteServices, request: FastifyRequest) {
  checkTenant(request, services.endpoints);
  const body = formBody(request);
  if (body.grant_type === undefined || body.grant_type === '') throw missing('grant_type');
  if (PeopleGrants.handles(body.grant_type)) {
    return services.people.grant(body.grant_type, body as PeopleGrantBody, request.ip);
  }
  if (body.grant_type !== 'client_credentials') {
    throw new OAuthError(
      'unsupported_grant_type',
      70003,
      `The app requested an unsupported grant type '${body.grant_type.slice(0, 60)}'; this server supports 'client_credentials', 'authorization_code', 'refresh_token' and 'urn:ietf:params:oauth:grant-type:device_code'.`,
    );
  }
  if (body.scope === undefined || body.scope.trim() === '') throw missing('scope');
  const audience = audienceOf(body.scope, services.endpoints);
  const client = await services.clients.authenticate(body, audience, request.ip);
  const token = await services.issuer.issue(
    {
      principalId: client.principal.id,
      appId: client.principal.app_id ?? '',
      credentialId: client.credential.id,
      authenticationMethod: client.method,
    },
    audience,
  );
  request.log.info(
    { appId: client.principal.app_id, credentialId: client.credential.id, audience },
    'access token issued',
  );
  return {
    token_type: 'Bearer',
    expires_in: token.expiresIn,
    ext_expires_in: token.expiresIn,
    access_token: token.accessToken,
  };
}

function formBody(request: FastifyRequest): TokenRequestBody {
  const type = String(request.headers['content-type'] ?? '');
  const body = request.body;
  if (
    !type.toLowerCase().startsWith('application/x-www-form-urlencoded') ||
    typeof body !== 'object' ||
    body === null
  ) {
    throw new OAuthError(
      'invalid_request',
      900144,
      'The request body must be form-encoded (application/x-www-form-urlencoded) and contain grant_type, client_id and scope.',
    );
  }
  return body;
}

/** Client credentials take exactly one `<resource>/.default` scope. */
function audienceOf(scope: string, endpoints: IdentityEndpoints): string {
  const scopes = scope.split(' ').filter((s) => s !== '');
  const only = scopes.length === 1 ? scopes[0] : undefined;
  if (only === undefined || !only.endsWith('/.default')) {
    throw new OAuthError(
      'invalid_scope',
      1002012,
      `The provided value for scope '${scope.slice(0, 200)}' is not valid. Client credential flows must have a single scope value with /.default suffixed to the resource identifier, such as '${MANAGEMENT_AUDIENCE}.default'.`,
    );
  }
  const resource = only.slice(0, -'.default'.length);
  const audience = audienceFor(resource, endpoints);
  if (audience === undefined) {
    throw new OAuthError(
      'invalid_resource',
      500011,
      `The resource principal named '${resource.slice(0, 200)}' was not found in the tenant. This server issues tokens for '${MANAGEMENT_AUDIENCE}' and '${endpoints.publicUrl}/'.`,
    );
  }
  return audience;
}

function missing(parameter: string): OAuthError {
  return new OAuthError(
    'invalid_request',
    900144,
    `The request body must contain the following parameter: '${parameter}'.`,
  );
}
