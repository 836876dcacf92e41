// Mints access tokens: RS256 JWTs with the claims ARM callers read (`aud`, `iss`, `tid`,
// `oid`, `appid`, `iat`, `nbf`, `exp`) plus the credential used, so deleting that credential
// revokes the tokens it obtained.
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Clock } from '../clock.js';
import type { IdentityEndpoints } from './identity-endpoints.js';
import { ACCESS_TOKEN_ALGORITHM, type SigningKeyRing } from './signing-key-ring.js';

/** Names the credential (password or certificate keyId) a token was obtained with. */
export const CREDENTIAL_CLAIM = 'credid';

/** Entra's default lifetime for app-only tokens. */
export const DEFAULT_TOKEN_LIFETIME_MS = 60 * 60 * 1000;

export interface TokenSubject {
  /** Object id of the principal. */
  principalId: string;
  /** Application (client) id. */
  appId: string;
  /** keyId of the credential that proved the caller's identity. */
  credentialId: string;
  /** '1' client secret, '2' certificate: Entra's `appidacr`. */
  authenticationMethod: '1' | '2';
}

export interface IssuedToken {
  accessToken: string;
  /** Seconds until expiry, as the token endpoint reports it. */
  expiresIn: number;
}

export class AccessTokenIssuer {
  constructor(
    private readonly keys: SigningKeyRing,
    private readonly endpoints: IdentityEndpoints,
    private readonly clock: Clock,
    private readonly lifetimeMs: number = DEFAULT_TOKEN_LIFETIME_MS,
  ) {}

  async issue(subject: TokenSubject, audience: string): Promise<IssuedToken> {
    const now = Math.floor(this.clock.now() / 1000);
    const lifetime = Math.floor(this.lifetimeMs / 1000);
    const { kid, key } = this.keys.signingKey();
    const accessToken = await new SignJWT({
      tid: this.endpoints.tenantId,
      oid: subject.principalId,
      sub: subject.principalId,
      appid: subject.appId,
      appidacr: subject.authenticationMethod,
      idtyp: 'app',
      [CREDENTIAL_CLAIM]: subject.credentialId,
    })
      .setProtectedHeader({ alg: ACCESS_TOKEN_ALGORITHM, typ: 'JWT', kid })
      .setIssuer(this.endpoints.issuer)
      .setAudience(audience)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + lifetime)
      .setJti(randomUUID())
      .sign(key);
    return { accessToken, expiresIn: lifetime };
  }
}
