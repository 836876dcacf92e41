// Checks a person's user name and password: failures limited per account and per address
// (429 with Retry-After before any hashing), unknown names costing as much as wrong passwords,
// and hashes made at an older cost upgraded while the password is at hand.
import type { Clock } from '../clock.js';
import type { CredentialRow, CredentialStore, PrincipalRow } from './credential-store.js';
import { OAuthError } from './oauth-error.js';
import type { PasswordHasher } from './password-hasher.js';
import { SignInThrottle, type ThrottleLimits } from './sign-in-throttle.js';

/** Names the credential row that holds a person's password hash. */
export const USER_PASSWORD_CREDENTIAL = 'Sign-in password';

/** People type passwords: a handful of tries per account, and each check costs 128 MiB. */
export const PASSWORD_THROTTLE_LIMITS: ThrottleLimits = Object.freeze({
  perClientAddress: 5,
  perClient: 20,
  perAddress: 30,
  windowMs: 5 * 60_000,
  concurrentHashes: 2,
  queuedHashes: 32,
});

export interface SignedInUser {
  principal: PrincipalRow;
  /** The password credential: tokens name it, so changing the password revokes them. */
  credential: CredentialRow;
}

export class PasswordAuthenticator {
  /** Hashed when the name is unknown, so that timing does not tell which names exist. */
  private decoy: Promise<string> | undefined;

  constructor(
    private readonly store: CredentialStore,
    private readonly hasher: PasswordHasher,
    private readonly clock: Clock,
    private readonly throttle = new SignInThrottle(clock, PASSWORD_THROTTLE_LIMITS, 'account'),
  ) {}

  /** The user, or OAuthError `invalid_grant` (wrong name or password) or 429 `temporarily_unavailable`. */
  async signIn(userName: string, password: string, address: string): Promise<SignedInUser> {
    const account = userName.trim().toLowerCase();
    await this.throttle.check(account, address);
    const user = await this.check(account, password);
    if (user === undefined) {
      await this.throttle.failed(account, address);
      throw new OAuthError(
        'invalid_grant',
        50126,
        'Error validating credentials due to invalid username or password.',
      );
    }
    return user;
  }

  private async check(account: string, password: string): Promise<SignedInUser | undefined> {
    const principal = account === '' ? undefined : await this.store.userByUpn(account);
    const credential =
      principal === undefined
        ? undefined
        : (await this.store.credentialsOf(principal.id, 'password')).find(
            (c) => c.secret_hash !== null,
          );
    if (principal === undefined || credential?.secret_hash == null) {
      this.decoy ??= this.hasher.hash('not a password of anyone');
      const decoy = await this.decoy;
      await this.throttle.hashing(() => this.hasher.verify(password, decoy));
      return undefined;
    }
    const stored = credential.secret_hash;
    const result = await this.throttle.hashing(() => this.hasher.verify(password, stored));
    if (!result.matches) return undefined;
    const now = this.clock.now();
    if (now < Date.parse(credential.starts_at) || now >= Date.parse(credential.expires_at)) {
      return undefined;
    }
    if (result.needsRehash) {
      await this.store.rehashPassword(credential.id, await this.hasher.hash(password));
    }
    return { principal, credential };
  }
}
