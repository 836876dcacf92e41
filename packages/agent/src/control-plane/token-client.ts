// Tokens from the control plane's token endpoint by client credentials: a service principal's
// secret or certificate (connect, disconnect) or the machine key (HIMDS).
import type { KeyObject } from 'node:crypto';
import { AgentError } from '../errors.js';
import type { Egress } from '../network/egress.js';
import { signClientAssertion } from './client-assertion.js';
import { describeError, httpsJson } from './https-json.js';

export type ClientCredential =
  | { readonly kind: 'secret'; readonly clientId: string; readonly secret: string }
  | {
      readonly kind: 'assertion';
      readonly clientId: string;
      readonly key: KeyObject;
      readonly alg: 'ES256' | 'RS256' | 'PS256';
      readonly header: Readonly<Record<string, string>>;
    };

export interface AccessToken {
  readonly token: string;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
  /** Epoch milliseconds: when it was asked for. */
  readonly obtainedAt?: number;
}

export interface TokenRequest {
  readonly endpoint: string;
  readonly tenantId: string;
  readonly ca: string | undefined;
  readonly egress: Egress;
  readonly credential: ClientCredential;
  /** The resource (audience); `/.default` is appended. */
  readonly resource: string;
  readonly nowMs: number;
}

export function tokenEndpointOf(endpoint: string, tenantId: string): string {
  return `${endpoint}/${encodeURIComponent(tenantId)}/oauth2/v2.0/token`;
}

export async function requestToken(request: TokenRequest): Promise<AccessToken> {
  const url = tokenEndpointOf(request.endpoint, request.tenantId);
  const { credential } = request;
  const form: Record<string, string> = {
    grant_type: 'client_credentials',
    client_id: credential.clientId,
    scope: `${request.resource.replace(/\/+$/, '')}/.default`,
  };
  if (credential.kind === 'secret') {
    form['client_secret'] = credential.secret;
  } else {
    form['client_assertion_type'] = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
    form['client_assertion'] = await signClientAssertion({
      clientId: credential.clientId,
      tokenEndpoint: url,
      key: credential.key,
      alg: credential.alg,
      header: credential.header,
      nowSeconds: Math.floor(request.nowMs / 1000),
    });
  }
  const answer = await httpsJson({
    method: 'POST',
    url,
    route: request.egress('AAD'),
    ca: request.ca,
    form,
  });
  const token = answer.body['access_token'];
  const expiresIn = Number(answer.body['expires_in']);
  if (answer.status !== 200 || typeof token !== 'string' || !Number.isFinite(expiresIn)) {
    throw new AgentError(
      'ERR_AUTH_FAILED',
      `The control plane refused a token for ${credential.clientId}: ${describeError(answer)}.`,
    );
  }
  return { token, expiresAt: request.nowMs + expiresIn * 1000, obtainedAt: request.nowMs };
}
