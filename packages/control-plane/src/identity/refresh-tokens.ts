// Refresh tokens for people: opaque, stored hashed, rotated on every use. A token used twice
// means a copy is in someone else's hands, so its whole family (every token rotated from the
// same sign-in) is revoked — unless the second use comes within a few seconds of the first:
// two tabs refreshing at once. That second use gets nothing, and the family lives on.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { OAuthError } from './oauth-error.js';
import { newOpaqueToken, opaqueTokenHash } from './opaque-token.js';
import type { RefreshTokenRow, SignInStore } from './sign-in-store.js';

/** How long an unused refresh token lasts; each use starts a new one. */
export const REFRESH_TOKEN_LIFETIME_MS = 30 * 86_400_000;

/**
 * A second use of a refresh token this soon after its first is taken for a concurrent refresh
 * by the same person (two tabs, two processes sharing a cache), not for a thief: it is refused
 * without revoking the sign-in, so the request that won keeps working. It is never answered
 * with tokens, so the window opens no replay: a copy used in it gets nothing either.
 */
export const REFRESH_REUSE_GRACE_MS = 10_000;

export interface RefreshGrant {
  userId: string;
  clientId: string;
  credentialId: string;
  scope: string;
  /** The family to continue; a new sign-in starts one. */
  familyId?: string;
}

export class RefreshTokens {
  constructor(
    private readonly store: SignInStore,
    private readonly clock: Clock,
    private readonly lifetimeMs: number = REFRESH_TOKEN_LIFETIME_MS,
    private readonly graceMs: number = REFRESH_REUSE_GRACE_MS,
  ) {}

  async issue(grant: RefreshGrant): Promise<string> {
    const token = newOpaqueToken();
    const now = this.clock.now();
    await this.store.insertRefreshToken({
      token_hash: opaqueTokenHash(token),
      family_id: grant.familyId ?? randomUUID(),
      user_id: grant.userId,
      client_id: grant.clientId,
      credential_id: grant.credentialId,
      scope: grant.scope,
      created_at: new Date(now).toISOString(),
      expires_at: new Date(now + this.lifetimeMs).toISOString(),
      used_at: null,
      revoked_at: null,
    });
    return token;
  }

  /** Takes the token (it cannot be used again) and returns what it grants, or refuses why. */
  async redeem(token: string, clientId: string): Promise<RefreshTokenRow> {
    const now = this.clock.now();
    const stamp = new Date(now).toISOString();
    const row = await this.store.refreshToken(opaqueTokenHash(token));
    if (row === undefined) {
      throw invalidGrant(9002313, 'The refresh token is not valid: this server did not issue it.');
    }
    if (row.client_id !== clientId.toLowerCase()) {
      throw invalidGrant(
        70000,
        `The refresh token was issued to another client, not '${clientId.slice(0, 100)}'.`,
      );
    }
    if (row.revoked_at !== null) {
      throw invalidGrant(
        50173,
        `The refresh token was revoked at ${row.revoked_at} (sign-out, a new password, or reuse of a token of the same sign-in). Sign in again.`,
      );
    }
    if (row.used_at !== null || !(await this.store.useRefreshToken(row.token_hash, stamp))) {
      // Unused when read but taken since: a request running alongside this one used it just now.
      const usedAt = row.used_at === null ? now : Date.parse(row.used_at);
      if (now - usedAt <= this.graceMs) {
        throw invalidGrant(
          50173,
          `The refresh token was used by another request ${Math.max(0, Math.round((now - usedAt) / 1000))} s ago (a refresh running at the same time, such as another tab). The sign-in is still valid: use the refresh token that request received, or sign in again.`,
        );
      }
      await this.store.revokeFamily(row.family_id, stamp);
      throw invalidGrant(
        50173,
        'The refresh token was already used once. Every token of that sign-in is now revoked, in case a copy was stolen; sign in again.',
      );
    }
    if (now >= Date.parse(row.expires_at)) {
      throw invalidGrant(
        700082,
        `The refresh token has expired due to inactivity (at ${row.expires_at}). Sign in again.`,
      );
    }
    return row;
  }

  /**
   * Revokes the sign-in `token` belongs to (its whole family). An unknown or expired token
   * changes nothing and is not an error; one issued to another client is refused.
   */
  async revoke(token: string, clientId: string): Promise<void> {
    const row = await this.store.refreshToken(opaqueTokenHash(token));
    if (row === undefined) return;
    if (row.client_id !== clientId.toLowerCase()) {
      throw new OAuthError(
        'unauthorized_client',
        70000,
        `The refresh token was issued to another client, not '${clientId.slice(0, 100)}'; nothing was revoked.`,
      );
    }
    await this.store.revokeFamily(row.family_id, new Date(this.clock.now()).toISOString());
  }
}

export function invalidGrant(aadsts: number, description: string): OAuthError {
  return new OAuthError('invalid_grant', aadsts, description);
}
