// The control plane assembled over an open database: authorizer loaded from the store,
// identity, directory and Resource Manager routes in one Fastify app. `tether server` serves
// it over TLS; in-process tests drive the very same app with inject().
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import type { Kysely } from 'kysely';
import { PolicyService } from '../policy-service/policy-service.js';
import { SqlActivityLog } from '../activity/sql-activity-log.js';
import { buildApp } from '../api/build-app.js';
import { loadAuthorizationState } from '../authorization/load-authorization-state.js';
import type { Clock } from '../clock.js';
import { directoryRoutes } from '../directory/directory-routes.js';
import { DirectoryService } from '../directory/directory-service.js';
import { DirectoryStore } from '../directory/directory-store.js';
import { sweepOverdueExtensionOperations } from '../extensions/extension-expiry-sweep.js';
import { sendAuthenticationChallenges } from '../identity/authentication-error.js';
import { IdentityError } from '../identity/identity-error.js';
import { IdentityProvider } from '../identity/identity-provider.js';
import type { KeyEncryptionKeys } from '../identity/key-encryption-keys.js';
import type { ScryptCost } from '../identity/scrypt-hash.js';
import { UserPasswords } from '../directory/user-passwords.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeartbeatService } from '../machines/heartbeat-service.js';
import { LeanHeartbeats } from '../machines/lean-heartbeats.js';
import { AgentChannels } from '../machines/agent-channels.js';
import type { Duplex } from 'node:stream';
import { heartbeatRoute, machineAgentRoutes } from '../machines/machine-agent-routes.js';
import { machineTimings, type MachineTimings } from '../machines/machine-timings.js';
import { onboardingTokenRoutes } from '../onboarding/onboarding-token-routes.js';
import type { Authorizer } from '../rbac/authorizer.js';
import { clusterChannelOf } from '../cluster/cluster-channel.js';
import { SharedAuthorizer } from '../cluster/shared-authorizer.js';
import { armRoutes } from '../resources/arm-routes.js';
import type { Database } from '../store/schema.js';
import { readSetting, SETTING_KEYS } from '../store/settings.js';
import { GoalStateWaiters } from '../extensions/goal-state-waiters.js';
import { gcWaitersOf } from '../guest-configuration/gc-services.js';
import { healthRoutes } from './health-routes.js';
import { installRoutes } from '../install/install-routes.js';

export interface ControlPlaneAppOptions {
  db: Kysely<Database>;
  clock: Clock;
  /** `https://HOST:PORT` clients reach this server at: issuer, endpoints, audiences, links. */
  publicUrl: string;
  https?: { key: string; cert: string };
  logger?: FastifyServerOptions['logger'];
  tokenLifetimeMs?: number;
  /** Heartbeat interval, Disconnected/Expired thresholds and machine credential lifetimes. */
  machineTimings?: Partial<MachineTimings>;
  /** scrypt cost of people's passwords; OWASP's unless a test lowers it. */
  passwordCost?: ScryptCost;
  /** The azcmagent .deb that "Add a server" installs; its install routes answer 404 without. */
  agentPackage?: string | undefined;
  /** Key-encryption keys the token signing keys are wrapped with; none: in the clear. */
  keyEncryptionKeys?: KeyEncryptionKeys | undefined;
  /** Load balancers whose X-Forwarded-For names the client; none by default. */
  trustedProxies?: readonly string[] | undefined;
  /** `https://HOST:PORT` of the web portal: its client's redirect URI. */
  portalUrl?: string | undefined;
  /** False: upgrades to the agent channel go to the router, which answers 426. */
  agentChannel?: boolean | undefined;
  /** How often quiet agent channels are pinged (2 minutes unless a test says). */
  agentChannelPingMs?: number | undefined;
}

export interface ControlPlaneApp {
  app: FastifyInstance;
  tenantId: string;
  identity: IdentityProvider;
  authorizer: Authorizer;
  directory: DirectoryService;
  /** The timings in force, defaults filled in. */
  machineTimings: Readonly<MachineTimings>;
  /** The heartbeats answered in front of the router. */
  leanHeartbeats: LeanHeartbeats;
  /** The machines' agent channels (WebSocket) open on this node. */
  agentChannels: AgentChannels;
  /** Answers a request from the HTTPS server: heartbeats on their lean path, the rest by `app`. */
  serve(request: IncomingMessage, response: ServerResponse): void;
  /** Takes an upgrade request from the HTTPS server: an agent channel, or answered by `serve`. */
  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Fails extension operations past their deadline (B7); the server runs it periodically. */
  sweepExtensionOperations(): Promise<number>;
}

export async function createControlPlaneApp(
  options: ControlPlaneAppOptions,
): Promise<ControlPlaneApp> {
  const { db, clock } = options;
  const tenantId = await readSetting(db, SETTING_KEYS.tenantId);
  if (tenantId === undefined) {
    throw new IdentityError(
      'ERR_NOT_INITIALIZED',
      'the database holds no tenant: run `tether init --data-dir <dir>` first',
    );
  }
  const channel = clusterChannelOf(db);
  const authorizer = new SharedAuthorizer();
  await loadAuthorizationState(db, authorizer);
  // One set of timings for both: the token endpoint refuses an Expired machine by the same
  // thresholds the machine routes show.
  const timings = machineTimings(options.machineTimings);
  const identity = await IdentityProvider.open({
    db,
    clock,
    machineTimings: timings,
    publicUrl: options.publicUrl,
    tenantId,
    keyEncryptionKeys: options.keyEncryptionKeys,
    ...(options.tokenLifetimeMs === undefined ? {} : { tokenLifetimeMs: options.tokenLifetimeMs }),
    ...(options.passwordCost === undefined ? {} : { passwordCost: options.passwordCost }),
    portalUrl: options.portalUrl,
  });
  const publicUrl = identity.endpoints.publicUrl;
  const activityLog = new SqlActivityLog(db, clock);
  const armServices = {
    db,
    authorizer,
    clock,
    activityLog,
    publicUrl,
    machineTimings: timings,
    tokens: identity.authenticator,
    // Guest configuration assignments and compliance follow the policy assignments.
    policy: new PolicyService(db, clock),
  };
  const directoryStore = new DirectoryStore(db, clock);
  const directory = new DirectoryService(
    directoryStore,
    authorizer,
    identity.authenticator,
    clock,
    new UserPasswords(
      directoryStore,
      identity.passwordHasher,
      identity.passwords,
      identity.authenticator,
      identity.signIns,
      clock,
    ),
  );
  const heartbeatService = new HeartbeatService(db, clock, timings);
  const heartbeat = heartbeatRoute(heartbeatService);
  const deps = { authenticator: identity.authenticator, authorizer, activityLog };
  const available = (): boolean => channel.subscribed;
  const app = buildApp({
    routes: [
      ...healthRoutes(db, () => channel.subscribed),
      ...identity.routes(activityLog),
      ...directoryRoutes({ directory, clock, publicUrl }),
      ...armRoutes(armServices),
      ...machineAgentRoutes(armServices, heartbeat),
      ...onboardingTokenRoutes({ ...armServices, tenantId }),
      ...installRoutes({ publicUrl, agentPackage: options.agentPackage, db }),
    ],
    deps,
    ...(options.https === undefined ? {} : { https: options.https }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    available,
    trustedProxies: options.trustedProxies,
  });
  const route = (request: IncomingMessage, response: ServerResponse): void =>
    app.routing(request, response);
  const heartbeats = new LeanHeartbeats({
    route: heartbeat,
    service: heartbeatService,
    deps,
    available,
    trustedProxies: options.trustedProxies,
    log: app.log,
  });
  const agentChannels = new AgentChannels({
    route: heartbeat,
    service: heartbeatService,
    deps,
    available,
    clock,
    trustedProxies: options.trustedProxies,
    log: app.log,
    revocations: identity.authenticator,
    pingIntervalMs: options.agentChannelPingMs,
    notices: {
      extensions: GoalStateWaiters.of(db),
      guestConfiguration: gcWaitersOf(db),
    },
  });
  authorizer.share(db, channel, (error) =>
    app.log.error({ err: error }, 'role assignments not read back after a change on another node'),
  );
  sendAuthenticationChallenges(app);
  return {
    app,
    tenantId,
    identity,
    authorizer,
    directory,
    machineTimings: timings,
    leanHeartbeats: heartbeats,
    agentChannels,
    serve: (request, response) => {
      if (!heartbeats.handle(request, response, route)) route(request, response);
    },
    upgrade: (request, socket, head) =>
      options.agentChannel === false
        ? agentChannels.refuse(request, socket, route)
        : agentChannels.upgrade(request, socket, head, route),
    sweepExtensionOperations: () => sweepOverdueExtensionOperations(db, clock),
  };
}
