// Turns `Authorization: Bearer <token>` into a Caller, or refuses with a 401 that says exactly
// why: no header, not a JWT, unknown key, bad signature, expired, not yet valid, another
// audience or issuer, or a principal or credential deleted (or expired) since it was issued.
import { untrustedText } from '@tether/protocol';
import { decodeProtectedHeader, errors, jwtVerify, type CryptoKey, type JWTPayload } from 'jose';
import type { Authenticator, Caller } from '../api/caller.js';
import type { Clock } from '../clock.js';
import type { ClusterChannel } from '../cluster/cluster-channel.js';
import { CREDENTIAL_CLAIM } from './access-token-issuer.js';
import { AuthenticationError, type AuthenticationErrorCode } from './authentication-error.js';
import type { CredentialStore, LiveSubject } from './credential-store.js';
import type { IdentityEndpoints } from './identity-endpoints.js';
import { ACCESS_TOKEN_ALGORITHM, type SigningKeyRing } from './signing-key-ring.js';
import { VerificationCache, type VerifiedToken } from './verification-cache.js';

/** Clock skew tolerated on `exp` and `nbf`; the tokens are this server's own, so it is small. */
export const ACCESS_TOKEN_CLOCK_SKEW_SECONDS = 60;
/**
 * How long a verified token is trusted without asking the database again. Deletions made by
 * this process take effect at once; this bounds how late another process sharing the
 * database (PostgreSQL scale-out) notices them.
 */
export const DEFAULT_REVALIDATE_MS = 30_000;
/** A token naming an unknown key reloads the keys at most this often (another process may have rotated). */
const KEY_RELOAD_INTERVAL_MS = 10_000;

const REQUIRED_CLAIMS = ['exp', 'nbf', 'iat', 'tid', 'oid', 'appid', CREDENTIAL_CLAIM];

/** What the directory tells the authenticator when it deletes something tokens may name. */
export interface TokenRevocations {
  forgetPrincipal(principalId: string): void;
  forgetCredential(credentialId: string): void;
}

/** Told when a principal's or a credential's tokens stopped being valid, here or on another node. */
export type RevocationListener = (kind: 'principal' | 'credential', id: string) => void;

export class TokenAuthenticator implements Authenticator, TokenRevocations {
  private readonly cache = new VerificationCache();
  private lastKeyReload = Number.NEGATIVE_INFINITY;
  private channel: ClusterChannel | undefined;
  private readonly listeners = new Set<RevocationListener>();

  constructor(
    private readonly keys: SigningKeyRing,
    private readonly credentials: CredentialStore,
    private readonly endpoints: IdentityEndpoints,
    private readonly clock: Clock,
    private readonly revalidateMs: number = DEFAULT_REVALIDATE_MS,
  ) {}

  /** Exactly `Bearer <a token verified before>` needs no parsing and no waiting. */
  known(authorization: string | undefined): Caller | undefined {
    if (authorization?.startsWith('Bearer ') !== true) return undefined;
    return this.cache.get(authorization.slice(7), this.clock.now());
  }

  async authenticate(authorization: string | undefined): Promise<Caller> {
    const recent = this.known(authorization);
    if (recent !== undefined) return recent;
    const now = this.clock.now();
    const token = bearerToken(authorization, this.refuse);
    const cached = this.cache.get(token, now);
    if (cached !== undefined) return cached;

    // Checked before and not expired: its signature stands (while its key is still accepted);
    // only whether its principal and credential are still live is asked again.
    const known = this.cache.verified(token, now);
    const verified =
      known !== undefined && this.keys.verificationKey(known.kid) !== undefined
        ? known
        : await this.verify(token, now);
    const payload = verified.claims;
    const principalId = String(payload.oid);
    const credentialId = String(payload[CREDENTIAL_CLAIM]);
    const subject = this.checkSubject(
      await this.credentials.liveSubject(principalId, credentialId),
      principalId,
      credentialId,
      now,
    );
    const caller = callerOf(subject, payload);
    const credentialExpiry = Date.parse(subject.credential.expires_at);
    const validUntil = Math.min(
      (payload.exp ?? 0) * 1000,
      credentialExpiry,
      now + this.revalidateMs,
    );
    this.cache.put(token, caller, credentialId, validUntil, verified);
    return caller;
  }

  forgetPrincipal(principalId: string): void {
    this.cache.forgetPrincipal(principalId);
    this.channel?.publish('token-revocation', `principal:${principalId}`);
    this.revoked('principal', principalId);
  }

  forgetCredential(credentialId: string): void {
    this.cache.forgetCredential(credentialId);
    this.channel?.publish('token-revocation', `credential:${credentialId}`);
    this.revoked('credential', credentialId);
  }

  /**
   * Calls `listener` after each revocation (a principal or credential deleted or ended, here or
   * on another node), once the tokens it ends are no longer remembered: what holds such a token
   * open (an agent channel) checks it again then. Returns the way to stop.
   */
  onRevocation(listener: RevocationListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private revoked(kind: 'principal' | 'credential', id: string): void {
    for (const listener of this.listeners) listener(kind, id);
  }

  /**
   * Tells the other nodes what this one forgets, and forgets what they do; while notifications
   * may be missed, nothing verified is remembered at all.
   */
  share(channel: ClusterChannel): void {
    this.channel = channel;
    channel.subscribe('token-revocation', (payload, origin) => {
      if (origin === 'local') return;
      const [kind, id = ''] = payload.split(/:(.*)/s);
      if (kind === 'principal' || kind === 'credential') {
        if (kind === 'principal') this.cache.forgetPrincipal(id);
        else this.cache.forgetCredential(id);
        this.revoked(kind, id);
      }
    });
    // Missed notifications: what holds a token open checks it with its next use.
    channel.onReset({ lost: () => this.cache.clear() });
  }

  private async verify(token: string, now: number): Promise<VerifiedToken> {
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw this.refuse(
        'InvalidAuthenticationToken',
        'The access token is invalid: it is not a well-formed JWT.',
      );
    }
    if (header.alg !== ACCESS_TOKEN_ALGORITHM) {
      throw this.refuse(
        'InvalidAuthenticationToken',
        `The access token is invalid: it is signed with '${untrustedText(header.alg)}', but this server signs and accepts only ${ACCESS_TOKEN_ALGORITHM}.`,
      );
    }
    const kid = typeof header.kid === 'string' ? header.kid : '';
    const key = this.keys.verificationKey(kid) ?? (await this.reloadKeysFor(kid, now));
    if (key === undefined) {
      throw this.refuse(
        'InvalidAuthenticationToken',
        `The access token is invalid: it is signed by a key this server does not know or no longer accepts (kid '${kid.slice(0, 100)}'). Get a new token from ${this.endpoints.tokenEndpoint}.`,
      );
    }
    try {
      const { payload } = await jwtVerify(token, key, {
        algorithms: [ACCESS_TOKEN_ALGORITHM],
        issuer: this.endpoints.issuer,
        audience: [...this.endpoints.audiences],
        clockTolerance: ACCESS_TOKEN_CLOCK_SKEW_SECONDS,
        currentDate: new Date(now),
        requiredClaims: REQUIRED_CLAIMS,
      });
      if (payload.tid !== this.endpoints.tenantId) {
        throw this.refuse(
          'InvalidAuthenticationToken',
          `The access token is from tenant '${String(payload.tid)}'; this server's tenant is '${this.endpoints.tenantId}'.`,
        );
      }
      // Frozen once and shared by every caller made from this token while it is remembered.
      return { claims: Object.freeze(payload), kid, until: (payload.exp ?? 0) * 1000 };
    } catch (error) {
      throw error instanceof AuthenticationError ? error : this.explain(error, now);
    }
  }

  private async reloadKeysFor(kid: string, now: number): Promise<CryptoKey | undefined> {
    if (now - this.lastKeyReload < KEY_RELOAD_INTERVAL_MS) return undefined;
    this.lastKeyReload = now;
    await this.keys.reload();
    return this.keys.verificationKey(kid);
  }

  /** Refuses a deleted principal, a deleted or expired credential, and a group. */
  private checkSubject(
    subject: LiveSubject | undefined,
    principalId: string,
    credentialId: string,
    now: number,
  ): LiveSubject {
    if (subject === undefined) {
      throw this.refuse(
        'InvalidAuthenticationToken',
        `The access token is no longer valid: its principal '${principalId}' or the credential '${credentialId}' it was obtained with has been deleted.`,
      );
    }
    if (!(now < Date.parse(subject.credential.expires_at))) {
      throw this.refuse(
        'InvalidAuthenticationToken',
        `The access token is no longer valid: the credential '${credentialId}' it was obtained with expired at UTC time '${subject.credential.expires_at}'. Get a new token with a current credential.`,
      );
    }
    if (subject.principal.type === 'Group') {
      throw this.refuse(
        'InvalidAuthenticationToken',
        `The access token names the group '${principalId}'; a group cannot sign in.`,
      );
    }
    return subject;
  }

  private explain(error: unknown, now: number): AuthenticationError {
    const nowText = new Date(now).toISOString();
    if (error instanceof errors.JWTExpired) {
      const exp = new Date(Number(error.payload.exp) * 1000).toISOString();
      return this.refuse(
        'ExpiredAuthenticationToken',
        `The access token expiry UTC time '${exp}' is earlier than current UTC time '${nowText}'.`,
      );
    }
    if (error instanceof errors.JWTClaimValidationFailed) {
      const value = error.payload[error.claim];
      switch (error.claim) {
        case 'nbf':
          return this.refuse(
            'InvalidAuthenticationToken',
            `The access token is not yet valid: its validity starts at UTC time '${new Date(Number(value) * 1000).toISOString()}', later than current UTC time '${nowText}' plus the allowed clock skew of ${ACCESS_TOKEN_CLOCK_SKEW_SECONDS} seconds.`,
          );
        case 'aud':
          return this.refuse(
            'InvalidAuthenticationTokenAudience',
            `The access token has been obtained for wrong audience or resource '${JSON.stringify(value)}'. It should exactly match with one of the allowed audiences '${this.endpoints.audiences.join("','")}'.`,
          );
        case 'iss':
          return this.refuse(
            'InvalidAuthenticationToken',
            `The access token is from another issuer '${String(value)}'; expected '${this.endpoints.issuer}'.`,
          );
        default:
          return this.refuse(
            'InvalidAuthenticationToken',
            `The access token is invalid: claim '${error.claim}' ${error.reason === 'missing' ? 'is missing' : `failed its check (${error.reason})`}.`,
          );
      }
    }
    if (error instanceof errors.JWSSignatureVerificationFailed) {
      return this.refuse(
        'InvalidAuthenticationToken',
        'The access token is invalid: its signature does not verify.',
      );
    }
    return this.refuse(
      'InvalidAuthenticationToken',
      'The access token is invalid: it is not a well-formed JWT.',
    );
  }

  private readonly refuse = (code: AuthenticationErrorCode, message: string): AuthenticationError =>
    new AuthenticationError(
      code,
      message,
      `${this.endpoints.publicUrl}/${this.endpoints.tenantId}`,
    );
}

function bearerToken(
  authorization: string | undefined,
  refuse: (code: AuthenticationErrorCode, message: string) => AuthenticationError,
): string {
  if (authorization === undefined || authorization.trim() === '') {
    throw refuse(
      'AuthenticationFailed',
      "Authentication failed. The 'Authorization' header is missing. Send 'Authorization: Bearer <access token>'.",
    );
  }
  const match = /^Bearer +([A-Za-z0-9_\-.]+=*) *$/i.exec(authorization);
  if (match?.[1] === undefined) {
    throw refuse(
      'InvalidAuthenticationToken',
      "Authentication failed. The 'Authorization' header is invalid: expected the scheme 'Bearer' followed by an access token.",
    );
  }
  return match[1];
}

function callerOf(subject: LiveSubject, payload: Readonly<JWTPayload>): Caller {
  const { principal } = subject;
  const name =
    principal.type === 'ServicePrincipal'
      ? (principal.app_id ?? principal.id)
      : principal.type === 'User'
        ? (principal.user_principal_name ?? principal.id)
        : principal.id;
  return Object.freeze({
    principalId: principal.id,
    principalType: principal.type,
    name,
    claims: payload,
  });
}
