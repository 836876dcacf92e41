// Proves who is asking for a token: a service principal by its client_id, with either one of
// its client secrets or a client assertion signed by one of its certificates.
import type { Clock } from '../clock.js';
import { ONBOARDING_TOKEN_CREDENTIAL } from '../onboarding/onboarding-token.js';
import type { ClientAssertionVerifier } from './client-assertion.js';
import { verifyClientSecret } from './client-secret.js';
import type { CredentialRow, CredentialStore, PrincipalRow } from './credential-store.js';
import type { IdentityEndpoints } from './identity-endpoints.js';
import { OAuthError } from './oauth-error.js';
import { SignInThrottle } from './sign-in-throttle.js';

export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface ClientProof {
  client_id?: string | undefined;
  client_secret?: string | undefined;
  client_assertion?: string | undefined;
  client_assertion_type?: string | undefined;
}

export interface AuthenticatedClient {
  principal: PrincipalRow;
  credential: CredentialRow;
  /** Entra's `appidacr`: '1' secret, '2' certificate. */
  method: '1' | '2';
}

export class ClientAuthenticator {
  constructor(
    private readonly store: CredentialStore,
    private readonly assertions: ClientAssertionVerifier,
    private readonly endpoints: IdentityEndpoints,
    private readonly clock: Clock,
    private readonly throttle: SignInThrottle = new SignInThrottle(clock),
  ) {}

  /**
   * `audience` is the one the token will carry; an assertion may serve each audience once.
   * `address` is the caller's: failures are limited per client and per address.
   */
  async authenticate(
    proof: ClientProof,
    audience: string,
    address: string,
  ): Promise<AuthenticatedClient> {
    const clientId = proof.client_id;
    if (clientId === undefined || clientId === '') throw missing('client_id');
    await this.throttle.check(clientId, address);
    try {
      return await this.prove(proof, clientId, audience);
    } catch (error) {
      if (
        error instanceof OAuthError &&
        (error.status === 401 || error.error === 'unauthorized_client')
      ) {
        await this.throttle.failed(clientId, address);
      }
      throw error;
    }
  }

  private async prove(
    proof: ClientProof,
    clientId: string,
    audience: string,
  ): Promise<AuthenticatedClient> {
    const principal = GUID.test(clientId)
      ? await this.store.servicePrincipalByAppId(clientId)
      : undefined;
    // A machine identity signs in too (S15), with an assertion signed by its machine key.
    if (
      principal === undefined ||
      (principal.machine_id !== null && proof.client_secret !== undefined)
    ) {
      throw new OAuthError(
        'unauthorized_client',
        700016,
        `Application with identifier '${clientId.slice(0, 100)}' was not found in the directory '${this.endpoints.tenantId}'. Check the client_id (the service principal's appId).`,
      );
    }
    const hasSecret = proof.client_secret !== undefined;
    const hasAssertion = proof.client_assertion !== undefined;
    if (hasSecret && hasAssertion) {
      throw new OAuthError(
        'invalid_request',
        90023,
        "Send either 'client_secret' or 'client_assertion', not both.",
      );
    }
    if (hasAssertion) {
      if (proof.client_assertion_type !== JWT_BEARER_ASSERTION_TYPE) {
        throw new OAuthError(
          'invalid_request',
          50027,
          `'client_assertion_type' must be '${JWT_BEARER_ASSERTION_TYPE}'.`,
        );
      }
      const credential = await this.assertions.verify(
        proof.client_assertion ?? '',
        clientId,
        principal,
        audience,
      );
      return { principal, credential, method: '2' };
    }
    if (!hasSecret) {
      throw new OAuthError(
        'invalid_client',
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      );
    }
    return {
      principal,
      credential: await this.checkSecret(principal, proof.client_secret ?? ''),
      method: '1',
    };
  }

  private async checkSecret(principal: PrincipalRow, secret: string): Promise<CredentialRow> {
    const passwords = await this.store.credentialsOf(principal.id, 'password');
    // Every secret of the principal is checked, whatever the presented one begins with: a
    // shortcut on its first characters made them guessable by timing.
    for (const credential of passwords) {
      const hash = credential.secret_hash;
      if (hash === null) continue;
      if (!(await this.throttle.hashing(() => verifyClientSecret(secret, hash)))) continue;
      const now = this.clock.now();
      if (now >= Date.parse(credential.expires_at)) {
        if (credential.display_name === ONBOARDING_TOKEN_CREDENTIAL) {
          throw new OAuthError(
            'invalid_client',
            7000222,
            `The onboarding token expired at ${credential.expires_at}. Make a new one with 'tether onboarding-token create --resource-group RG --expires 2h' and connect with that.`,
          );
        }
        throw new OAuthError(
          'invalid_client',
          7000222,
          `The provided client secret keys for app '${principal.app_id ?? ''}' are expired (key '${credential.id}' expired at ${credential.expires_at}). Create a new secret with addPassword.`,
        );
      }
      if (now < Date.parse(credential.starts_at)) {
        throw new OAuthError(
          'invalid_client',
          7000215,
          `The client secret '${credential.id}' is not valid before ${credential.starts_at}.`,
        );
      }
      return credential;
    }
    throw new OAuthError(
      'invalid_client',
      7000215,
      `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${principal.app_id ?? ''}'.`,
    );
  }
}

function missing(parameter: string): OAuthError {
  return new OAuthError(
    'invalid_request',
    900144,
    `The request body must contain the following parameter: '${parameter}'.`,
  );
}
