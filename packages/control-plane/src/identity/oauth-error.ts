// Token-endpoint refusals in the shape Entra answers them (`error`, `error_description` with
// an AADSTS number, `error_codes`, ids and timestamp), which msal-node parses and surfaces.
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../clock.js';

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_resource'
  | 'temporarily_unavailable'
  | 'authorization_pending'
  | 'slow_down'
  | 'expired_token'
  | 'access_denied';

export class OAuthError extends Error {
  constructor(
    readonly error: OAuthErrorCode,
    /** Entra's AADSTS number for the same refusal, so searches for it find the fix. */
    readonly aadsts: number,
    readonly description: string,
    /** For `temporarily_unavailable`: when to try again (the Retry-After header). */
    readonly retryAfterSeconds?: number,
  ) {
    super(`AADSTS${aadsts}: ${description}`);
  }

  /**
   * Entra answers a failed client authentication with 401, a throttled one with 429,
   * everything else with 400.
   */
  get status(): 400 | 401 | 429 {
    if (this.error === 'temporarily_unavailable') return 429;
    return this.error === 'invalid_client' ? 401 : 400;
  }
}

export interface OAuthErrorBody {
  error: OAuthErrorCode;
  error_description: string;
  error_codes: number[];
  timestamp: string;
  trace_id: string;
  correlation_id: string;
}

export function oauthErrorBody(
  error: OAuthError,
  correlationId: string,
  now: number,
): OAuthErrorBody {
  const traceId = randomUUID();
  const timestamp = new Date(now)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
  return {
    error: error.error,
    error_description: `${error.message} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [error.aadsts],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
  };
}

/** Sets the status and returns the body; the correlation id echoes msal's `client-request-id`. */
export function sendOAuthError(
  request: FastifyRequest,
  reply: FastifyReply,
  error: OAuthError,
  clock: Clock,
): OAuthErrorBody {
  // msal sends its request id as a header or, to the token endpoint, as a query parameter.
  const query = request.query as Record<string, unknown> | undefined;
  const given = request.headers['client-request-id'] ?? query?.['client-request-id'];
  const correlationId =
    typeof given === 'string' && /^[0-9a-f-]{36}$/i.test(given)
      ? given
      : String(reply.getHeader('x-ms-correlation-request-id') ?? randomUUID());
  request.log.info({ error: error.error, aadsts: error.aadsts }, 'OAuth request refused');
  void reply.code(error.status);
  if (error.retryAfterSeconds !== undefined) {
    void reply.header('retry-after', String(error.retryAfterSeconds));
  }
  return oauthErrorBody(error, correlationId, clock.now());
}
