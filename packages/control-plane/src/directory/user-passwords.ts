// People's passwords in the directory: set by an administrator, changed by their owner with the
// current one. A new password replaces the credential row, so every token obtained with the
// old one stops working at once.
import { randomUUID } from 'node:crypto';
import { ArmError, TooManyRequestsError } from '../api/arm-error.js';
import type { Clock } from '../clock.js';
import type { CredentialRow } from '../identity/credential-store.js';
import { OAuthError } from '../identity/oauth-error.js';
import {
  USER_PASSWORD_CREDENTIAL,
  type PasswordAuthenticator,
} from '../identity/password-authenticator.js';
import type { PasswordHasher } from '../identity/password-hasher.js';
import { passwordProblem, type PasswordOwner } from '../identity/password-policy.js';
import type { SignInStore } from '../identity/sign-in-store.js';
import type { TokenRevocations } from '../identity/token-authenticator.js';
import { invalid } from './directory-input.js';
import type { DirectoryStore } from './directory-store.js';

/** A password does not expire by age (current NIST guidance); it lasts until it is changed. */
const NEVER = '9999-12-31T23:59:59.999Z';

export class UserPasswords {
  constructor(
    private readonly store: DirectoryStore,
    private readonly hasher: PasswordHasher,
    private readonly authenticator: PasswordAuthenticator,
    private readonly revocations: TokenRevocations,
    private readonly signIns: SignInStore,
    private readonly clock: Clock,
  ) {}

  /** Refuses a password the policy rejects, naming `target` and the rule. */
  check(password: unknown, owner: PasswordOwner, target: string): string {
    if (typeof password !== 'string') {
      throw invalid(target, password, 'expected the password as a string');
    }
    const problem = passwordProblem(password, owner);
    if (problem !== undefined) throw invalid(target, '(hidden)', problem);
    return password;
  }

  /** The credential row holding `password`'s hash; the caller has checked it first. */
  async credential(principalId: string, password: string): Promise<CredentialRow> {
    const stamp = new Date(this.clock.now()).toISOString();
    return {
      id: randomUUID(),
      principal_id: principalId,
      kind: 'password',
      display_name: USER_PASSWORD_CREDENTIAL,
      secret_hash: await this.hasher.hash(password),
      secret_hint: null,
      thumbprint_s256: null,
      thumbprint_sha1: null,
      certificate_pem: null,
      starts_at: stamp,
      expires_at: NEVER,
      created_at: stamp,
    };
  }

  /** An administrator's reset: the user's sessions and tokens end. */
  async set(userId: string, password: unknown, target: string): Promise<void> {
    const user = await this.store.principal(userId, 'User');
    if (user === undefined) {
      throw new ArmError('ResourceNotFound', `User '${userId}' does not exist in the directory.`, {
        target: 'id',
      });
    }
    const checked = this.check(password, ownerOf(user), target);
    await this.replace(user.id, await this.credential(user.id, checked));
  }

  /** The owner's change: the current password must be right (and is rate limited like a sign-in). */
  async change(
    userId: string,
    currentPassword: unknown,
    newPassword: unknown,
    address: string,
  ): Promise<void> {
    const user = await this.store.principal(userId, 'User');
    if (user?.user_principal_name == null) {
      throw new ArmError('BadRequest', 'Only a signed-in user can change their own password.');
    }
    if (typeof currentPassword !== 'string' || currentPassword === '') {
      throw invalid('currentPassword', currentPassword, 'expected the current password');
    }
    const checked = this.check(newPassword, ownerOf(user), 'newPassword');
    if (checked === currentPassword) {
      throw invalid('newPassword', '(hidden)', 'it is the same as the current password');
    }
    try {
      await this.authenticator.signIn(user.user_principal_name, currentPassword, address);
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      if (error.retryAfterSeconds !== undefined) {
        throw new TooManyRequestsError(
          error.description,
          error.retryAfterSeconds,
          'currentPassword',
        );
      }
      throw new ArmError('BadRequest', 'The current password is not correct.', {
        target: 'currentPassword',
      });
    }
    await this.replace(user.id, await this.credential(user.id, checked));
  }

  private async replace(userId: string, row: CredentialRow): Promise<void> {
    const removed = await this.store.replacePasswords(userId, row);
    for (const id of removed) this.revocations.forgetCredential(id);
    // Sessions and refresh tokens name the old credential and would fail anyway; revoking
    // them says so in the database, for whoever looks.
    await this.signIns.revokeUser(userId, new Date(this.clock.now()).toISOString());
  }
}

function ownerOf(user: { user_principal_name: string | null; display_name: string }) {
  return { userPrincipalName: user.user_principal_name ?? '', displayName: user.display_name };
}
