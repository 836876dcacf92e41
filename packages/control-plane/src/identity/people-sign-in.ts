// People signing in at the browser pages: password checks (rate limited), browser sessions,
// authorization codes, device code approval and sign-out, each success and failure written to
// the activity log (never a password or a token).
import type { FastifyRequest } from 'fastify';
import type { ActivityLog } from '../api/activity-log.js';
import type { Clock } from '../clock.js';
import type { CredentialStore, PrincipalRow } from './credential-store.js';
import { newOpaqueToken, opaqueTokenHash } from './opaque-token.js';
import type { PasswordAuthenticator, SignedInUser } from './password-authenticator.js';
import { SESSION_LIFETIME_MS } from './browser-session.js';
import type { SignInStore } from './sign-in-store.js';
import { randomUUID } from 'node:crypto';

export const SIGN_IN_OPERATIONS = {
  signIn: 'Microsoft.Authorization/directory/users/signIn/action',
  deviceCode: 'Microsoft.Authorization/directory/users/deviceCodeSignIn/action',
  signOut: 'Microsoft.Authorization/directory/users/signOut/action',
} as const;

export const AUTHORIZATION_CODE_LIFETIME_MS = 10 * 60_000;

export interface CodeRequest {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  scope: string;
  nonce: string | null;
}

export class PeopleSignIn {
  constructor(
    private readonly store: SignInStore,
    private readonly credentials: CredentialStore,
    private readonly passwords: PasswordAuthenticator,
    private readonly activity: ActivityLog,
    private readonly clock: Clock,
  ) {}

  /** Checks the password and logs the attempt; OAuthError (wrong, or 429) on failure. */
  async checkPassword(
    request: FastifyRequest,
    userName: string,
    password: string,
    operation: string,
    clientId: string,
  ): Promise<SignedInUser> {
    try {
      const user = await this.passwords.signIn(userName, password, request.ip);
      await this.log(
        request,
        user.principal.user_principal_name ?? userName,
        operation,
        'Succeeded',
        '200',
        clientId,
      );
      return user;
    } catch (error) {
      const reason =
        (error as { error?: string }).error === 'temporarily_unavailable'
          ? 'TooManyRequests'
          : 'InvalidUserNameOrPassword';
      await this.log(request, userName.slice(0, 120), operation, 'Failed', reason, clientId);
      throw error;
    }
  }

  /** A new browser session for the person; returns the cookie value. */
  async startSession(user: SignedInUser): Promise<string> {
    const cookie = newOpaqueToken();
    const now = this.clock.now();
    await this.store.insertSession({
      id_hash: opaqueTokenHash(cookie),
      user_id: user.principal.id,
      credential_id: user.credential.id,
      created_at: new Date(now).toISOString(),
      expires_at: new Date(now + SESSION_LIFETIME_MS).toISOString(),
    });
    return cookie;
  }

  /** The person a session cookie stands for, while the session and their password are current. */
  async session(
    cookie: string | undefined,
  ): Promise<(SignedInUser & { idHash: string }) | undefined> {
    if (cookie === undefined || !/^[A-Za-z0-9_-]{43}$/.test(cookie)) return undefined;
    const idHash = opaqueTokenHash(cookie);
    const row = await this.store.session(idHash);
    if (row === undefined || this.clock.now() >= Date.parse(row.expires_at)) return undefined;
    const subject = await this.credentials.liveSubject(row.user_id, row.credential_id);
    if (subject?.principal.type !== 'User') return undefined;
    return { ...subject, idHash };
  }

  async issueCode(user: SignedInUser, request: CodeRequest): Promise<string> {
    const code = newOpaqueToken();
    const now = this.clock.now();
    await this.store.insertCode({
      code_hash: opaqueTokenHash(code),
      client_id: request.clientId,
      user_id: user.principal.id,
      credential_id: user.credential.id,
      redirect_uri: request.redirectUri,
      code_challenge: request.codeChallenge,
      scope: request.scope,
      nonce: request.nonce,
      expires_at: new Date(now + AUTHORIZATION_CODE_LIFETIME_MS).toISOString(),
      used_at: null,
    });
    return code;
  }

  /** Ends the person's sessions and revokes every refresh token they hold. */
  async signOut(request: FastifyRequest, user: PrincipalRow): Promise<void> {
    await this.store.revokeUser(user.id, new Date(this.clock.now()).toISOString());
    await this.log(
      request,
      user.user_principal_name ?? user.id,
      SIGN_IN_OPERATIONS.signOut,
      'Succeeded',
      '200',
      '',
    );
  }

  async log(
    request: FastifyRequest,
    caller: string,
    operationName: string,
    status: 'Succeeded' | 'Failed',
    subStatus: string,
    clientId: string,
  ): Promise<void> {
    await this.activity.record({
      correlationId: randomUUID(),
      caller,
      operationName,
      status,
      subStatus,
      resourceId: '/',
      httpMethod: request.method,
      clientIp: request.ip,
      properties: clientId === '' ? {} : { clientId },
    });
  }
}
