// Cross-origin access to the API for the web portal's origin, and for no other: the portal is
// served on an origin of its own and calls the Resource Manager routes, Graph and the token
// endpoint with bearer tokens (never cookies), as any third-party single-page app would.
import type { IncomingMessage, ServerResponse } from 'node:http';

const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE';
const ALLOWED_HEADERS =
  'authorization, content-type, x-ms-client-request-id, x-ms-correlation-request-id';
/** What the portal reads from answers: long-running operations, throttling, correlation. */
const EXPOSED_HEADERS =
  'azure-asyncoperation, location, retry-after, x-ms-request-id, x-ms-correlation-request-id';

/**
 * Adds the CORS headers an answer to `portalOrigin` needs; answers a preflight itself and
 * returns true then. A request from any other origin gets no CORS header at all.
 */
export function answerCors(
  request: IncomingMessage,
  response: ServerResponse,
  portalOrigin: string | undefined,
): boolean {
  response.setHeader('vary', 'Origin');
  const origin = request.headers.origin;
  if (portalOrigin === undefined || origin !== portalOrigin) return false;
  response.setHeader('access-control-allow-origin', origin);
  const preflight =
    request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined;
  if (!preflight) {
    response.setHeader('access-control-expose-headers', EXPOSED_HEADERS);
    return false;
  }
  response.writeHead(204, {
    'access-control-allow-methods': ALLOWED_METHODS,
    'access-control-allow-headers': ALLOWED_HEADERS,
    'access-control-max-age': '600',
    'content-length': '0',
  });
  response.end();
  return true;
}
