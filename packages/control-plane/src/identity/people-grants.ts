// The token endpoint's grants for people: authorization_code (with PKCE), refresh_token (with
// rotation) and device_code. Each answers as Entra does — access, id and refresh tokens plus
// `client_info` — and checks that the person and their password are still current.
import { randomUUID } from 'node:crypto';
import type { ActivityLog } from '../api/activity-log.js';
import type { Clock } from '../clock.js';
import type { ClientAuthenticator, ClientProof } from './client-authenticator.js';
import type { CredentialStore } from './credential-store.js';
import type { DeviceCodes } from './device-codes.js';
import type { IdentityEndpoints } from './identity-endpoints.js';
import { OAuthError } from './oauth-error.js';
import { opaqueTokenHash } from './opaque-token.js';
import { checkRedirectUri, peopleClient, type PeopleClient } from './people-clients.js';
import { parsePeopleScopes } from './people-scopes.js';
import { verifierMatches } from './pkce.js';
import { invalidGrant, type RefreshTokens } from './refresh-tokens.js';
import type { SignInStore } from './sign-in-store.js';
import type { SignInThrottle } from './sign-in-throttle.js';
import type { UserTokenIssuer } from './user-token-issuer.js';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

export type PeopleGrantBody = ClientProof & Record<string, string | undefined>;

export interface PeopleGrantServices {
  endpoints: IdentityEndpoints;
  clock: Clock;
  credentials: CredentialStore;
  signIns: SignInStore;
  refreshTokens: RefreshTokens;
  deviceCodes: DeviceCodes;
  issuer: UserTokenIssuer;
  clients: ClientAuthenticator;
  /** Failed grants per client and address: guessing codes or tokens is slowed like passwords. */
  throttle: SignInThrottle;
  /** Each grant, given or refused, is recorded (never the code or token itself). */
  activity: ActivityLog;
}

export const TOKEN_OPERATION = 'Microsoft.Authorization/directory/users/token/action';

interface Granted {
  userId: string;
  credentialId: string;
  clientId: string;
  scope: string;
  nonce: string | null;
  familyId?: string;
}

export class PeopleGrants {
  constructor(private readonly services: PeopleGrantServices) {}

  /** True for the grant types this class answers. */
  static handles(grantType: string): boolean {
    return ['authorization_code', 'refresh_token', 'device_code', DEVICE_CODE_GRANT].includes(
      grantType,
    );
  }

  async grant(grantType: string, body: PeopleGrantBody, address: string): Promise<unknown> {
    const client = await peopleClient(
      body.client_id,
      this.services.credentials,
      this.services.endpoints,
    );
    const record = (status: 'Succeeded' | 'Failed', subStatus: string, caller: string) =>
      this.services.activity.record({
        correlationId: randomUUID(),
        caller,
        operationName: TOKEN_OPERATION,
        status,
        subStatus,
        resourceId: '/',
        httpMethod: 'POST',
        clientIp: address,
        properties: { clientId: client.clientId, grantType },
      });
    try {
      await this.services.throttle.check(client.clientId, address);
    } catch (error) {
      await record('Failed', 'TooManyRequests', client.clientId);
      throw error;
    }
    try {
      const granted = await this.redeem(grantType, body, client, address);
      const answer = await this.answer(granted, body.scope);
      await record('Succeeded', '200', answer.userName);
      return answer.body;
    } catch (error) {
      if (error instanceof OAuthError && error.error === 'invalid_grant') {
        await this.services.throttle.failed(client.clientId, address);
        await record('Failed', `invalid_grant (AADSTS${error.aadsts})`, client.clientId);
      }
      throw error;
    }
  }

  private async redeem(
    grantType: string,
    body: PeopleGrantBody,
    client: PeopleClient,
    address: string,
  ): Promise<Granted> {
    const { signIns, clock } = this.services;
    switch (grantType) {
      case 'authorization_code': {
        const code = required(body, 'code');
        const taken = await signIns.takeCode(
          opaqueTokenHash(code),
          new Date(clock.now()).toISOString(),
        );
        if (taken === undefined || taken.row.client_id !== client.clientId) {
          throw invalidGrant(70000, 'The authorization code is not valid for this client.');
        }
        if (taken.reused) {
          throw invalidGrant(54005, 'The authorization code was already redeemed. Sign in again.');
        }
        const { row } = taken;
        if (clock.now() >= Date.parse(row.expires_at)) {
          throw invalidGrant(70008, `The authorization code expired at ${row.expires_at}.`);
        }
        if (required(body, 'redirect_uri') !== row.redirect_uri) {
          throw invalidGrant(
            500112,
            "The 'redirect_uri' differs from the one the authorization code was issued for.",
          );
        }
        if (!verifierMatches(required(body, 'code_verifier'), row.code_challenge)) {
          throw invalidGrant(
            501481,
            "The 'code_verifier' does not match the 'code_challenge' sent to the authorization endpoint.",
          );
        }
        // A web app's registered redirect means a confidential client: it proves itself too.
        if (checkRedirectUri(client, row.redirect_uri)) {
          await this.services.clients.authenticate(body, this.services.endpoints.issuer, address);
        }
        return {
          userId: row.user_id,
          credentialId: row.credential_id,
          clientId: client.clientId,
          scope: row.scope,
          nonce: row.nonce,
        };
      }
      case 'refresh_token': {
        const row = await this.services.refreshTokens.redeem(
          required(body, 'refresh_token'),
          client.clientId,
        );
        return {
          userId: row.user_id,
          credentialId: row.credential_id,
          clientId: client.clientId,
          scope: row.scope,
          nonce: null,
          familyId: row.family_id,
        };
      }
      default: {
        const row = await this.services.deviceCodes.redeem(
          required(body, 'device_code'),
          client.clientId,
        );
        return {
          userId: row.user_id ?? '',
          credentialId: row.credential_id ?? '',
          clientId: client.clientId,
          scope: row.scope,
          nonce: null,
        };
      }
    }
  }

  /** Tokens for the person, if they and the password they signed in with still exist. */
  private async answer(granted: Granted, requestedScope: string | undefined) {
    const { credentials, issuer, refreshTokens, endpoints } = this.services;
    const subject = await credentials.liveSubject(granted.userId, granted.credentialId);
    if (subject?.principal.type !== 'User') {
      throw invalidGrant(
        50173,
        'The grant is no longer valid: the user was deleted or their password has changed since they signed in. Sign in again.',
      );
    }
    // A refresh may ask for another resource than the sign-in did (Entra's tokens are multi-resource).
    const scopes = parsePeopleScopes(requestedScope ?? granted.scope, endpoints);
    const person = {
      user: subject.principal,
      credentialId: granted.credentialId,
      clientId: granted.clientId,
    };
    const access = await issuer.accessToken(person, scopes.audience, 'user_impersonation');
    const refresh =
      scopes.offlineAccess || granted.familyId !== undefined
        ? await refreshTokens.issue({
            userId: granted.userId,
            clientId: granted.clientId,
            credentialId: granted.credentialId,
            scope: granted.scope,
            ...(granted.familyId === undefined ? {} : { familyId: granted.familyId }),
          })
        : undefined;
    const body = {
      token_type: 'Bearer',
      scope: scopes.granted,
      expires_in: access.expiresIn,
      ext_expires_in: access.expiresIn,
      access_token: access.accessToken,
      ...(refresh === undefined ? {} : { refresh_token: refresh }),
      id_token: await issuer.idToken(person, granted.nonce),
      client_info: Buffer.from(
        JSON.stringify({ uid: granted.userId, utid: endpoints.tenantId }),
      ).toString('base64url'),
    };
    return { body, userName: subject.principal.user_principal_name ?? subject.principal.id };
  }
}

function required(body: PeopleGrantBody, name: string): string {
  const value = body[name];
  if (value === undefined || value === '') {
    throw new OAuthError(
      'invalid_request',
      900144,
      `The request body must contain the following parameter: '${name}'.`,
    );
  }
  return value;
}
