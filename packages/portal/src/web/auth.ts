// Signing a person in: authorization code with PKCE S256 through the API's own sign-in page (the
// portal never sees a password), tokens held in this tab's memory only, the refresh token
// rotated on every use, and sign-out through the API's logout, which ends the browser session
// and revokes every refresh token. A reload signs in again silently (prompt=none) while the
// browser session on the API lasts; only the PKCE verifier and state wait in sessionStorage
// during the round trip to the sign-in page.
import { randomToken, s256Challenge } from '../logic/pkce.js';
import type { PortalConfig } from './config.js';

const PENDING = 'tether.portal.pending';
const SIGNED_IN = 'tether.portal.signedIn';
const SCOPE = 'https://management.azure.com/.default openid profile offline_access';
/** Refresh this long before the access token expires. */
const REFRESH_MARGIN_MS = 120_000;

interface Pending {
  state: string;
  verifier: string;
  returnTo: string;
}

interface TokenAnswer {
  access_token: string;
  refresh_token?: string;
  expires_in: number;
  id_token?: string;
}

export interface Person {
  name: string;
  userPrincipalName: string;
  objectId: string;
}

export class SignInError extends Error {}

export class Session {
  private accessToken = '';
  private refreshToken: string | undefined;
  private expiresAt = 0;
  private refreshing: Promise<void> | undefined;
  person: Person | undefined;

  constructor(readonly config: PortalConfig) {}

  private get tokenEndpoint(): string {
    return `${this.config.apiUrl}/${this.config.tenantId}/oauth2/v2.0/token`;
  }

  private get redirectUri(): string {
    return `${this.config.portalUrl}/`;
  }

  /** Sends the browser to the sign-in page; `silent` asks only for a session already there. */
  async signIn(returnTo: string, silent = false): Promise<void> {
    const pending: Pending = { state: randomToken(), verifier: randomToken(), returnTo };
    sessionStorage.setItem(PENDING, JSON.stringify(pending));
    const params = new URLSearchParams({
      client_id: this.config.clientId,
      response_type: 'code',
      redirect_uri: this.redirectUri,
      scope: SCOPE,
      state: pending.state,
      code_challenge: await s256Challenge(pending.verifier),
      code_challenge_method: 'S256',
    });
    if (silent) params.set('prompt', 'none');
    location.assign(
      `${this.config.apiUrl}/${this.config.tenantId}/oauth2/v2.0/authorize?${params}`,
    );
  }

  /** True when this tab signed in before: a reload may try a silent sign-in. */
  get wasSignedIn(): boolean {
    return sessionStorage.getItem(SIGNED_IN) === '1';
  }

  /**
   * Finishes a sign-in when the URL carries its answer; returns the path to show then.
   * An answer with an error throws it, in words.
   */
  async completeSignIn(url: URL): Promise<string | undefined> {
    const code = url.searchParams.get('code');
    const error = url.searchParams.get('error');
    if (code === null && error === null) return undefined;
    const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? 'null') as Pending | null;
    sessionStorage.removeItem(PENDING);
    // The code leaves the address bar and the history at once.
    history.replaceState(null, '', pending?.returnTo ?? '/');
    if (pending === null || url.searchParams.get('state') !== pending.state) {
      throw new SignInError(
        'The sign-in answer does not belong to this tab. Please sign in again.',
      );
    }
    if (error !== null) {
      if (error === 'login_required') return undefined;
      throw new SignInError(url.searchParams.get('error_description') ?? error);
    }
    await this.tokenRequest({
      grant_type: 'authorization_code',
      code: code ?? '',
      redirect_uri: this.redirectUri,
      code_verifier: pending.verifier,
    });
    sessionStorage.setItem(SIGNED_IN, '1');
    return pending.returnTo;
  }

  get signedIn(): boolean {
    return this.accessToken !== '';
  }

  /** A live access token, refreshed (and the refresh token rotated) when near its end. */
  async token(now = Date.now()): Promise<string> {
    if (this.accessToken !== '' && now < this.expiresAt - REFRESH_MARGIN_MS)
      return this.accessToken;
    if (this.refreshToken === undefined) throw new SignInError('You are signed out.');
    this.refreshing ??= this.tokenRequest({
      grant_type: 'refresh_token',
      refresh_token: this.refreshToken,
    }).finally(() => {
      this.refreshing = undefined;
    });
    await this.refreshing;
    return this.accessToken;
  }

  /** Forgets the tokens here, then lets the API end the session and revoke them everywhere. */
  signOut(): void {
    this.accessToken = '';
    this.refreshToken = undefined;
    sessionStorage.removeItem(SIGNED_IN);
    const params = new URLSearchParams({
      client_id: this.config.clientId,
      post_logout_redirect_uri: this.redirectUri,
    });
    location.assign(`${this.config.apiUrl}/${this.config.tenantId}/oauth2/v2.0/logout?${params}`);
  }

  private async tokenRequest(fields: Record<string, string>): Promise<void> {
    const response = await fetch(this.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: this.config.clientId, scope: SCOPE, ...fields }),
    });
    const answer = (await response.json()) as TokenAnswer & { error_description?: string };
    if (!response.ok) {
      this.accessToken = '';
      this.refreshToken = undefined;
      throw new SignInError(answer.error_description ?? `Sign-in failed (${response.status}).`);
    }
    this.accessToken = answer.access_token;
    this.refreshToken = answer.refresh_token;
    this.expiresAt = Date.now() + answer.expires_in * 1000;
    this.person = personOf(answer.access_token);
  }
}

function personOf(accessToken: string): Person {
  const payload = accessToken.split('.')[1] ?? '';
  const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
  const claims = JSON.parse(
    new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0))),
  ) as Record<string, unknown>;
  const text = (key: string): string => (typeof claims[key] === 'string' ? claims[key] : '');
  return { name: text('name'), userPrincipalName: text('upn'), objectId: text('oid') };
}
