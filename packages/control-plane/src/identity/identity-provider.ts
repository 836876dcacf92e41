// The identity service assembled: signing keys, token issuance, client authentication, the
// bearer-token authenticator and the OIDC/OAuth routes, all for one tenant and public URL.
import type { Kysely } from 'kysely';
import type { ActivityLog } from '../api/activity-log.js';
import type { RouteSpec } from '../api/route-spec.js';
import type { Clock } from '../clock.js';
import { clusterChannelOf, type ClusterChannel } from '../cluster/cluster-channel.js';
import type { MachineTimings } from '../machines/machine-timings.js';
import type { Database } from '../store/schema.js';
import { AccessTokenIssuer, DEFAULT_TOKEN_LIFETIME_MS } from './access-token-issuer.js';
import { ClientAssertionVerifier } from './client-assertion.js';
import { ClientAuthenticator } from './client-authenticator.js';
import { CredentialStore } from './credential-store.js';
import { cloudMetadataRoutes } from './cloud-metadata-routes.js';
import { discoveryRoutes } from './discovery-routes.js';
import { identityEndpoints, type IdentityEndpoints } from './identity-endpoints.js';
import { PASSWORD_THROTTLE_LIMITS, PasswordAuthenticator } from './password-authenticator.js';
import { PasswordHasher } from './password-hasher.js';
import type { ScryptCost } from './scrypt-hash.js';
import { KeyEncryptionKeys } from './key-encryption-keys.js';
import { SigningKeyRing } from './signing-key-ring.js';
import { prepareSigningKeyStorage, type SigningKeyStorage } from './signing-key-wrapping.js';
import {
  ACCESS_TOKEN_CLOCK_SKEW_SECONDS,
  DEFAULT_REVALIDATE_MS,
  TokenAuthenticator,
} from './token-authenticator.js';
import { tokenRoute } from './token-route.js';
import { authorizeRoutes } from './authorize-route.js';
import { deviceCodeRoutes } from './device-code-routes.js';
import { DeviceCodes } from './device-codes.js';
import { logoutRoutes } from './logout-route.js';
import { revokeRoute } from './revoke-route.js';
import { PeopleGrants } from './people-grants.js';
import { PeopleSignIn } from './people-sign-in.js';
import { RefreshTokens } from './refresh-tokens.js';
import { SignInStore } from './sign-in-store.js';
import { SignInFailureStore } from './sign-in-failure-store.js';
import { DEFAULT_THROTTLE_LIMITS, SignInThrottle } from './sign-in-throttle.js';
import { UserTokenIssuer } from './user-token-issuer.js';

export interface IdentityOptions {
  db: Kysely<Database>;
  clock: Clock;
  publicUrl: string;
  tenantId: string;
  tokenLifetimeMs?: number;
  /** How long a verified token is trusted before the database is asked again. */
  revalidateMs?: number;
  /** Thresholds by which a machine counts as Expired and is refused tokens; defaults otherwise. */
  machineTimings?: Pick<MachineTimings, 'disconnectAfterMs' | 'expireAfterMs'>;
  /** scrypt cost of people's passwords; OWASP's unless a test lowers it. */
  passwordCost?: ScryptCost;
  /** Key-encryption keys the signing keys are wrapped with; none leaves them in the clear. */
  keyEncryptionKeys?: KeyEncryptionKeys | undefined;
  /** `https://host:port` of the web portal: its sign-in client may redirect there. */
  portalUrl?: string | undefined;
}

export class IdentityProvider {
  private constructor(
    readonly endpoints: IdentityEndpoints,
    readonly keys: SigningKeyRing,
    readonly issuer: AccessTokenIssuer,
    readonly clients: ClientAuthenticator,
    readonly authenticator: TokenAuthenticator,
    readonly passwordHasher: PasswordHasher,
    readonly passwords: PasswordAuthenticator,
    private readonly clock: Clock,
    private readonly credentials: CredentialStore,
    readonly signIns: SignInStore,
    private readonly userTokens: UserTokenIssuer,
    private readonly channel: ClusterChannel,
    /** Failed sign-ins, kept for every node to read back. */
    private readonly failures: SignInFailureStore,
    /** How the signing keys are stored, for the start-up log. */
    readonly keyStorage: SigningKeyStorage,
  ) {}

  static async open(options: IdentityOptions): Promise<IdentityProvider> {
    const { db, clock } = options;
    const lifetime = options.tokenLifetimeMs ?? DEFAULT_TOKEN_LIFETIME_MS;
    const endpoints = identityEndpoints(options.publicUrl, options.tenantId, options.portalUrl);
    const keks = options.keyEncryptionKeys ?? KeyEncryptionKeys.none();
    const keyStorage = await prepareSigningKeyStorage(db, keks);
    const keys = await SigningKeyRing.open(
      db,
      clock,
      { tokenLifetimeMs: lifetime, clockSkewMs: ACCESS_TOKEN_CLOCK_SKEW_SECONDS * 1000 },
      keks,
    );
    const store = new CredentialStore(db, clock);
    const assertions = new ClientAssertionVerifier(store, endpoints, clock, options.machineTimings);
    const hasher = new PasswordHasher(options.passwordCost);
    // Every node of the control plane counts the failed sign-ins of all of them.
    const channel = clusterChannelOf(db);
    const tokens = new TokenAuthenticator(
      keys,
      store,
      endpoints,
      clock,
      options.revalidateMs ?? DEFAULT_REVALIDATE_MS,
    );
    tokens.share(channel);
    channel.subscribe('signing-keys', (_payload, origin) => {
      if (origin === 'remote') void keys.reload().catch(() => undefined);
    });
    channel.onReset({ resync: () => keys.reload() });
    const failures = new SignInFailureStore(db);
    return new IdentityProvider(
      endpoints,
      keys,
      new AccessTokenIssuer(keys, endpoints, clock, lifetime),
      new ClientAuthenticator(
        store,
        assertions,
        endpoints,
        clock,
        new SignInThrottle(clock).share(channel, 'client', failures),
      ),
      tokens,
      hasher,
      new PasswordAuthenticator(
        store,
        hasher,
        clock,
        new SignInThrottle(clock, PASSWORD_THROTTLE_LIMITS, 'account').share(
          channel,
          'password',
          failures,
        ),
      ),
      clock,
      store,
      new SignInStore(db),
      new UserTokenIssuer(keys, endpoints, clock, lifetime),
      channel,
      failures,
      keyStorage,
    );
  }

  /** `activity` records people's sign-ins and sign-outs. */
  routes(activity: ActivityLog): RouteSpec[] {
    const { endpoints, keys, clock, credentials, signIns } = this;
    const deviceCodes = new DeviceCodes(signIns, clock, endpoints.verificationUri);
    const signIn = new PeopleSignIn(signIns, credentials, this.passwords, activity, clock);
    const refreshTokens = new RefreshTokens(signIns, clock);
    const people = new PeopleGrants({
      endpoints,
      clock,
      credentials,
      signIns,
      refreshTokens,
      deviceCodes,
      issuer: this.userTokens,
      clients: this.clients,
      throttle: new SignInThrottle(clock, DEFAULT_THROTTLE_LIMITS).share(
        this.channel,
        'people',
        this.failures,
      ),
      activity,
    });
    return [
      ...discoveryRoutes({ endpoints, keys, clock }),
      ...cloudMetadataRoutes(endpoints),
      tokenRoute({ endpoints, clients: this.clients, issuer: this.issuer, clock, people }),
      ...authorizeRoutes({ endpoints, credentials, signIn }),
      ...deviceCodeRoutes({
        endpoints,
        credentials,
        deviceCodes,
        signIn,
        clock,
        codeThrottle: new SignInThrottle(clock, DEFAULT_THROTTLE_LIMITS).share(
          this.channel,
          'device-code',
          this.failures,
        ),
      }),
      ...logoutRoutes({ endpoints, credentials, signIn }),
      revokeRoute({ endpoints, refreshTokens, clock }),
    ];
  }

  /** Rotates the signing key when it is older than `intervalMs`, and drops keys no token can name. */
  async rotateIfDue(intervalMs: number): Promise<boolean> {
    const due = this.keys.signingKeyAgeMs() >= intervalMs;
    if (due) await this.keys.rotate();
    const pruned = await this.keys.pruneRetired();
    // The other nodes read the keys again: they verify what this node now signs.
    if (due || pruned > 0) this.channel.publish('signing-keys', '');
    return due;
  }
}
