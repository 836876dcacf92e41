// Tokens from the control plane's token endpoint — client credentials for a service principal,
// the rotating refresh token for a person — reused from the profile's cache until five minutes
// before they expire.
import type { Clock } from '../../clock.js';
import { ApiError, isRecord } from './api-error.js';
import { MANAGEMENT_SCOPE } from './api-versions.js';
import { CliError } from './cli-error.js';
import type { CachedToken } from './profile-store.js';
import type { Transport } from './transport.js';
import { PEOPLE_SCOPE } from './device-code-login.js';

export interface ClientCredentials {
  endpoint: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** A person's sign-in: replaced by the next one on every use (the cache saves it). */
  refreshToken?: string;
}

export interface TokenCache {
  load(): CachedToken | undefined;
  save(token: CachedToken): Promise<void>;
}

/** A token this close to expiry is replaced rather than risk it lapsing mid-command. */
const REFRESH_MARGIN_MS = 5 * 60_000;

export class TokenProvider {
  private refreshToken: string | undefined;

  constructor(
    private readonly credentials: ClientCredentials,
    private readonly transport: Transport,
    private readonly clock: Clock,
    private readonly cache: TokenCache,
  ) {
    this.refreshToken = credentials.refreshToken;
  }

  /** A bearer token for ARM; `fresh` skips the cache (after the server refused the cached one). */
  async accessToken(fresh = false): Promise<string> {
    const cached = this.cache.load();
    if (!fresh && cached !== undefined && cached.expiresOn - this.clock.now() > REFRESH_MARGIN_MS) {
      return cached.accessToken;
    }
    const token = await this.requestToken();
    await this.cache.save(token);
    return token.accessToken;
  }

  private async requestToken(): Promise<CachedToken> {
    const { endpoint, tenantId, clientId, clientSecret } = this.credentials;
    const url = new URL(`${endpoint}/${encodeURIComponent(tenantId)}/oauth2/v2.0/token`);
    const requestedAt = this.clock.now();
    const response = await this.transport.send({
      method: 'POST',
      url,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: new URLSearchParams(
        this.refreshToken === undefined
          ? {
              grant_type: 'client_credentials',
              client_id: clientId,
              client_secret: clientSecret,
              scope: MANAGEMENT_SCOPE,
            }
          : {
              grant_type: 'refresh_token',
              client_id: clientId,
              refresh_token: this.refreshToken,
              scope: PEOPLE_SCOPE,
            },
      ).toString(),
    });
    if (response.status !== 200) {
      const refused = ApiError.fromResponse(response);
      throw new CliError(
        'ERR_AUTHENTICATION',
        this.refreshToken === undefined
          ? `signing in as ${clientId} in tenant ${tenantId} failed: ${refused.message}`
          : `the saved sign-in is no longer valid (${refused.message}); run 'tether login' again.`,
        { cause: refused },
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(response.body);
    } catch {
      body = undefined;
    }
    const accessToken = isRecord(body) ? body['access_token'] : undefined;
    const expiresIn = isRecord(body) ? Number(body['expires_in']) : Number.NaN;
    if (typeof accessToken !== 'string' || accessToken === '' || !(expiresIn > 0)) {
      throw new CliError(
        'ERR_AUTHENTICATION',
        `the token endpoint ${url.origin}${url.pathname} answered without an access_token and expires_in.`,
      );
    }
    const next = isRecord(body) ? body['refresh_token'] : undefined;
    if (this.refreshToken !== undefined && typeof next === 'string') {
      this.refreshToken = next;
      return { accessToken, expiresOn: requestedAt + expiresIn * 1000, refreshToken: next };
    }
    return { accessToken, expiresOn: requestedAt + expiresIn * 1000 };
  }
}
