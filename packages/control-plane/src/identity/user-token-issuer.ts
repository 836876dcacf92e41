// Tokens for people: access tokens that name the person (`oid`) so RBAC applies to them and
// their groups as to any principal, and OIDC id tokens with the claims MSAL reads.
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Clock } from '../clock.js';
import { CREDENTIAL_CLAIM, type IssuedToken } from './access-token-issuer.js';
import type { PrincipalRow } from './credential-store.js';
import type { IdentityEndpoints } from './identity-endpoints.js';
import { ACCESS_TOKEN_ALGORITHM, type SigningKeyRing } from './signing-key-ring.js';

export interface UserTokenSubject {
  user: PrincipalRow;
  /** The password credential signed in with; a new password revokes what it obtained. */
  credentialId: string;
  /** The application the person signed in to. */
  clientId: string;
}

export class UserTokenIssuer {
  constructor(
    private readonly keys: SigningKeyRing,
    private readonly endpoints: IdentityEndpoints,
    private readonly clock: Clock,
    private readonly lifetimeMs: number,
  ) {}

  accessToken(subject: UserTokenSubject, audience: string, scp: string): Promise<IssuedToken> {
    const { user } = subject;
    return this.sign(
      {
        oid: user.id,
        sub: user.id,
        appid: subject.clientId,
        // Entra's `appidacr` 0: a public client, which proves no secret of its own.
        appidacr: '0',
        idtyp: 'user',
        upn: user.user_principal_name,
        unique_name: user.user_principal_name,
        name: user.display_name,
        scp,
        [CREDENTIAL_CLAIM]: subject.credentialId,
      },
      audience,
    );
  }

  async idToken(subject: UserTokenSubject, nonce: string | null): Promise<string> {
    const { user } = subject;
    const token = await this.sign(
      {
        oid: user.id,
        sub: user.id,
        preferred_username: user.user_principal_name,
        name: user.display_name,
        ver: '2.0',
        ...(nonce === null ? {} : { nonce }),
      },
      subject.clientId,
    );
    return token.accessToken;
  }

  private async sign(claims: Record<string, unknown>, audience: string): Promise<IssuedToken> {
    const now = Math.floor(this.clock.now() / 1000);
    const lifetime = Math.floor(this.lifetimeMs / 1000);
    const { kid, key } = this.keys.signingKey();
    const accessToken = await new SignJWT({ tid: this.endpoints.tenantId, ...claims })
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
