// Checks a client-assertion JWT (RFC 7523 private_key_jwt) against the certificates registered
// for the service principal — found by `x5t#S256` (or SHA-1 `x5t`) — or, for a machine
// identity, its public key found by `kid` (ES256 only); then signature, aud = this token
// endpoint, iss = sub = client_id, exp/nbf with client clock skew, and a jti used once per audience.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { untrustedText } from '@tether/protocol';
import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import type { Clock } from '../clock.js';
import { deriveMachineStatus } from '../machines/machine-status.js';
import { DEFAULT_MACHINE_TIMINGS, type MachineTimings } from '../machines/machine-timings.js';
import type { CredentialRow, CredentialStore, PrincipalRow } from './credential-store.js';
import type { IdentityEndpoints } from './identity-endpoints.js';
import { OAuthError } from './oauth-error.js';

/** Client clocks drift more than ours; five minutes is what Entra tolerates. */
export const CLIENT_ASSERTION_CLOCK_SKEW_SECONDS = 300;
/** Bounds how long a used jti must be remembered; msal-node's assertions live ten minutes. */
export const MAX_CLIENT_ASSERTION_LIFETIME_SECONDS = 3600;

const ALGORITHMS: Record<string, 'rsa' | 'ec'> = { RS256: 'rsa', PS256: 'rsa', ES256: 'ec' };

export class ClientAssertionVerifier {
  constructor(
    private readonly store: CredentialStore,
    private readonly endpoints: IdentityEndpoints,
    private readonly clock: Clock,
    private readonly machineTimings: Pick<
      MachineTimings,
      'disconnectAfterMs' | 'expireAfterMs'
    > = DEFAULT_MACHINE_TIMINGS,
  ) {}

  /**
   * The certificate credential that signed the assertion; throws an OAuthError otherwise.
   * An assertion gets at most one token per audience: msal-node reuses one assertion for up to
   * ten minutes across the scopes a credential asks for, so strictly single-use jtis would
   * break unmodified clients, while a second token for the same audience is always a replay.
   */
  async verify(
    assertion: string,
    clientId: string,
    principal: PrincipalRow,
    audience: string,
  ): Promise<CredentialRow> {
    const header = this.header(assertion);
    const alg = untrustedText(header.alg);
    const keyType = ALGORITHMS[alg];
    if (keyType === undefined) {
      throw invalidAssertion(
        700027,
        `Client assertion is signed with '${alg}'; the accepted algorithms are ${Object.keys(ALGORITHMS).join(', ')}.`,
      );
    }
    const credential =
      principal.machine_id === null
        ? await this.credentialFor(header, principal)
        : await this.machineCredentialFor(header, alg, principal, principal.machine_id);
    const key = publicKeyOf(credential);
    if (
      key.asymmetricKeyType !== keyType ||
      (alg === 'ES256' && key.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
    ) {
      throw invalidAssertion(
        700027,
        `Client assertion is signed with '${alg}', which does not fit the registered certificate's key.`,
      );
    }
    const now = this.clock.now();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(assertion, key, {
        algorithms: [alg],
        clockTolerance: CLIENT_ASSERTION_CLOCK_SKEW_SECONDS,
        currentDate: new Date(now),
        requiredClaims: ['aud', 'iss', 'sub', 'exp', 'jti'],
      }));
    } catch (error) {
      throw explain(error);
    }
    this.checkClaims(payload, clientId, now);
    const fresh = await this.store.consumeAssertion(
      clientId,
      audience,
      String(payload.jti),
      ((payload.exp ?? 0) + CLIENT_ASSERTION_CLOCK_SKEW_SECONDS) * 1000,
    );
    if (!fresh) {
      throw invalidAssertion(
        50013,
        `Client assertion with jti '${String(payload.jti).slice(0, 100)}' has already been used for '${audience}'; an assertion gets one token per resource.`,
      );
    }
    return credential;
  }

  private header(assertion: string): ReturnType<typeof decodeProtectedHeader> {
    try {
      return decodeProtectedHeader(assertion);
    } catch {
      throw invalidAssertion(50027, 'Client assertion is not a well-formed JWT.');
    }
  }

  /** A machine signs with its own key, named by `kid`; a revoked or Expired machine cannot. */
  private async machineCredentialFor(
    header: ReturnType<typeof decodeProtectedHeader>,
    alg: string,
    principal: PrincipalRow,
    machineId: string,
  ): Promise<CredentialRow> {
    if (alg !== 'ES256') {
      throw invalidAssertion(
        700027,
        `Client assertion of a machine identity is signed with '${alg}'; machine keys sign with ES256.`,
      );
    }
    const kid = typeof header.kid === 'string' ? header.kid : '';
    if (kid === '') {
      throw invalidAssertion(
        700027,
        "Client assertion names no key: a machine identity's assertion header needs the 'kid' of its machine key.",
      );
    }
    const [credential, agent] = await Promise.all([
      this.store.publicKeyCredential(principal.id, kid),
      this.store.machineAgent(machineId),
    ]);
    if (credential === undefined || agent === undefined) {
      throw invalidAssertion(
        700027,
        `Client assertion failed signature validation. [Reason - The key was not found., kid: '${kid.slice(0, 100)}'] The machine key is not (or no longer) registered; re-onboard the machine with azcmagent connect.`,
      );
    }
    const now = this.clock.now();
    if (agent.revoked_at !== null) {
      throw invalidAssertion(
        700027,
        `The credential of machine identity '${principal.id}' was revoked at ${agent.revoked_at}; only re-onboarding (azcmagent connect) brings the machine back.`,
      );
    }
    if (now >= Date.parse(credential.expires_at)) {
      throw invalidAssertion(
        700027,
        `The machine key '${kid.slice(0, 100)}' expired at ${credential.expires_at}; re-onboard the machine with azcmagent connect.`,
      );
    }
    const status = deriveMachineStatus(
      {
        onboardedAt: Date.parse(agent.onboarded_at),
        lastHeartbeatAt:
          agent.last_heartbeat_at === null ? undefined : Date.parse(agent.last_heartbeat_at),
        connectedSince: undefined,
        credentialExpiresAt: Date.parse(agent.credential_expires_at),
        revokedAt: undefined,
      },
      now,
      this.machineTimings,
    );
    if (status.status === 'Expired') {
      throw invalidAssertion(
        700027,
        `The machine of identity '${principal.id}' has been Expired since ${new Date(status.lastStatusChange).toISOString()}; only re-onboarding (azcmagent connect) brings it back.`,
      );
    }
    return credential;
  }

  private async credentialFor(
    header: ReturnType<typeof decodeProtectedHeader>,
    principal: PrincipalRow,
  ): Promise<CredentialRow> {
    const s256 = typeof header['x5t#S256'] === 'string' ? header['x5t#S256'] : undefined;
    const sha1 = typeof header.x5t === 'string' ? header.x5t : undefined;
    if (s256 === undefined && sha1 === undefined) {
      throw invalidAssertion(
        700027,
        "Client assertion names no certificate: its header needs 'x5t#S256' (or 'x5t').",
      );
    }
    const certificates = await this.store.credentialsOf(principal.id, 'certificate');
    const credential = certificates.find((c) =>
      s256 !== undefined ? c.thumbprint_s256 === s256 : c.thumbprint_sha1 === sha1,
    );
    const shown = (s256 ?? sha1 ?? '').slice(0, 100);
    if (credential === undefined) {
      throw invalidAssertion(
        700027,
        `Client assertion failed signature validation. [Reason - The key was not found., Thumbprint of key used by client: '${shown}'] Register the certificate with addKey first.`,
      );
    }
    const now = this.clock.now();
    if (now < Date.parse(credential.starts_at)) {
      throw invalidAssertion(
        700027,
        `The certificate credential '${credential.id}' is not valid before ${credential.starts_at}.`,
      );
    }
    if (now >= Date.parse(credential.expires_at)) {
      throw invalidAssertion(
        700027,
        `The certificate credential '${credential.id}' expired at ${credential.expires_at}; register a new certificate.`,
      );
    }
    return credential;
  }

  private checkClaims(payload: JWTPayload, clientId: string, now: number): void {
    const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    const expected = this.endpoints.tokenEndpoint.toLowerCase();
    if (!audiences.some((a) => typeof a === 'string' && a.toLowerCase() === expected)) {
      throw invalidAssertion(
        50013,
        `Client assertion audience ${JSON.stringify(payload.aud)} is not this token endpoint '${this.endpoints.tokenEndpoint}'.`,
      );
    }
    const id = clientId.toLowerCase();
    const isClient = (claim: unknown) => typeof claim === 'string' && claim.toLowerCase() === id;
    if (!isClient(payload.iss) || !isClient(payload.sub)) {
      throw invalidAssertion(
        700021,
        `Client assertion iss '${untrustedText(payload.iss)}' and sub '${untrustedText(payload.sub)}' must both be the client_id '${clientId}'.`,
      );
    }
    if (
      (payload.exp ?? 0) * 1000 - now >
      (MAX_CLIENT_ASSERTION_LIFETIME_SECONDS + CLIENT_ASSERTION_CLOCK_SKEW_SECONDS) * 1000
    ) {
      throw invalidAssertion(
        700024,
        `Client assertion expires too far ahead: at most ${MAX_CLIENT_ASSERTION_LIFETIME_SECONDS} seconds from now are accepted.`,
      );
    }
    if (typeof payload.jti !== 'string' || payload.jti === '' || payload.jti.length > 256) {
      throw invalidAssertion(50013, 'Client assertion needs a jti claim of 1 to 256 characters.');
    }
  }
}

function publicKeyOf(credential: CredentialRow): KeyObject {
  if (credential.kind === 'publicKey' && typeof credential.public_key === 'string') {
    return createPublicKey({
      key: Buffer.from(credential.public_key, 'base64'),
      format: 'der',
      type: 'spki',
    });
  }
  if (credential.certificate_pem === null) {
    throw invalidAssertion(
      700027,
      `The certificate credential '${credential.id}' has no certificate stored.`,
    );
  }
  return createPublicKey(credential.certificate_pem);
}

function explain(error: unknown): OAuthError {
  if (error instanceof errors.JWTExpired) {
    return invalidAssertion(
      700024,
      'Client assertion is not within its valid time range: it has expired.',
    );
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') {
      return invalidAssertion(
        700024,
        'Client assertion is not within its valid time range: it is not valid yet.',
      );
    }
    return invalidAssertion(
      50013,
      `Client assertion claim '${error.claim}' ${error.reason === 'missing' ? 'is missing' : 'is invalid'}.`,
    );
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return invalidAssertion(
      700027,
      'Client assertion failed signature validation: the signature does not match the registered certificate.',
    );
  }
  return invalidAssertion(50027, 'Client assertion is not a well-formed JWT.');
}

function invalidAssertion(aadsts: number, description: string): OAuthError {
  return new OAuthError('invalid_client', aadsts, description);
}
