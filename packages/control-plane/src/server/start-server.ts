// `tether server`: opens the data directory's database (one process per SQLite file), makes
// or loads the TLS identity, binds HTTPS, then builds the control plane for the URL actually
// bound (port 0 included) and serves it; background tasks rotate signing keys, renew the
// server certificate and fail extension requests their machines did not take up in time.
// Over PostgreSQL any number of nodes share the database: each listens for the others'
// changes, and one at a time (the leader) runs the jobs of the whole control plane.
import { tracingChannel } from 'node:diagnostics_channel';
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import type { MachineTimings } from '../machines/machine-timings.js';
import { sweepIntervalFor } from '../extensions/extension-expiry-sweep.js';
import { loadProvidedTls } from '../tls/provided-tls.js';
import { SERVER_TLS_OPTIONS } from '../tls/server-tls-options.js';
import { ensureTlsMaterial, readTlsMaterial, type TlsMaterial } from '../tls/tls-material.js';
import { KeyEncryptionKeys } from '../identity/key-encryption-keys.js';
import type { SigningKeyStorage } from '../identity/signing-key-wrapping.js';
import { openDatabase, type DatabaseLocation } from '../store/open-database.js';
import { GoalStateWaiters } from '../extensions/goal-state-waiters.js';
import { registerClusterChannel, type ClusterChannel } from '../cluster/cluster-channel.js';
import { PostgresChannel } from '../cluster/postgres-channel.js';
import { operationWaitersOf } from '../extensions/operation-waiters.js';
import type { Database } from '../store/schema.js';
import { AdminSocket } from './admin-socket.js';
import { runningHandlers } from '../api/running-handlers.js';
import { createControlPlaneApp, type ControlPlaneApp } from './control-plane-app.js';
import { dataDirPaths } from './data-dir.js';
import { certificateNames, defaultPublicUrl, type ListenAddress } from './listen-address.js';
import { gcWaitersOf } from '../guest-configuration/gc-services.js';
import { PolicyMatcher } from '../guest-configuration/policy-matcher.js';
import { foldLivenessLog, LIVENESS_FOLD_MS } from '../machines/liveness-log.js';
import { PeriodicTask } from './periodic-task.js';
import { answerCors } from './portal-cors.js';
import { PortalSite } from './portal-site.js';
import { normalizePublicUrl } from '../identity/identity-endpoints.js';
import { TETHER_PORTAL_CLIENT_ID } from '../identity/people-clients.js';
import { jsonLog } from './json-log.js';
import { ServerError } from './server-error.js';

export interface ServerOptions {
  dataDir: string;
  listen: ListenAddress;
  /** Defaults to https://<listen host or this host's name>:<bound port>. */
  publicUrl?: string | undefined;
  /** PostgreSQL URL; SQLite in the data directory when absent. */
  databaseUrl?: string | undefined;
  tls?: { certFile: string; keyFile: string } | undefined;
  subjectAltNames: readonly string[];
  keyRotationMs: number;
  /** How long issued access tokens are valid; an hour when absent. */
  tokenLifetimeMs?: number | undefined;
  /** False: agents' channel upgrades are refused (426) and they heartbeat by POST. */
  agentChannel?: boolean | undefined;
  /** Heartbeat interval, Disconnected/Expired thresholds, rotation grace; defaults otherwise. */
  machineTimings?: Partial<MachineTimings> | undefined;
  clock: Clock;
  logLevel?: string;
  /** The azcmagent .deb served to machines added with the install command. */
  agentPackage?: string | undefined;
  /** Load balancers whose X-Forwarded-For names the client (addresses or address/prefix). */
  trustedProxies?: readonly string[] | undefined;
  /** Over PostgreSQL: how often the node checks its notification connection and the leader lock. */
  clusterCheckMs?: number | undefined;
  /**
   * Key-encryption key files (two while a rotation is rolled out); the data directory's
   * `key-encryption.key` when absent and that file exists.
   */
  keyEncryptionKeyFiles?: readonly string[] | undefined;
  /** Serve the web portal's build in `dir` on an origin of its own. */
  portal?: PortalOptions | undefined;
  /** Over PostgreSQL: the most connections the pool opens (pg's default, 10, when absent). */
  databasePoolSize?: number | undefined;
  /** Which worker this is (1…N) when the port is served by several; named in every log line. */
  worker?: number | undefined;
}

export interface PortalOptions {
  listen: ListenAddress;
  dir: string;
  /** Defaults to https://<listen host or this host's name>:<bound port>. */
  publicUrl?: string | undefined;
}

export interface RunningServer {
  url: string;
  /** The portal's URL when it is served. */
  portalUrl: string | undefined;
  app: FastifyInstance;
  close(): Promise<void>;
}

const TLS_CHECK_MS = 12 * 3_600_000;
/** How often the leader looks for policy matching left unfinished by a node that went away. */
const POLICY_MATCH_RESUME_MS = 60_000;
/** Key rotation is checked at least this often, so a due rotation is never much late. */
const KEY_CHECK_MS = 10 * 60_000;

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const paths = dataDirPaths(options.dataDir);
  // Read before the database is opened: a missing or malformed file changes nothing.
  const keks = await KeyEncryptionKeys.load(
    options.keyEncryptionKeyFiles ??
      (existsSync(paths.keyEncryptionKey) ? [paths.keyEncryptionKey] : []),
  );
  const location = databaseLocation(options, paths.database);
  const db = await openDatabase(location);
  let server: Server | undefined;
  let portalServer: Server | undefined;
  let channel: ClusterChannel | undefined;
  try {
    if (location.kind === 'postgres') {
      channel = await PostgresChannel.open(db, {
        url: location.url,
        log: jsonLog(options.logLevel ?? 'info', workerBinding(options.worker)),
        ...(options.clusterCheckMs === undefined ? {} : { checkMs: options.clusterCheckMs }),
      });
      registerClusterChannel(db as never, channel);
    }
    // Of a server's workers, only the first writes the generated certificate (the primary made
    // it before they started): the others read what it renews, never racing it.
    const readsOnly = options.tls === undefined && (options.worker ?? 1) > 1;
    const loadTls = (names: readonly string[]): Promise<TlsMaterial | undefined> =>
      options.tls !== undefined
        ? loadProvidedTls(options.tls.certFile, options.tls.keyFile, options.clock)
        : readsOnly
          ? readTlsMaterial(paths.tls)
          : ensureTlsMaterial(paths.tls, names, options.clock);
    const names = certificateNames(options.listen.host, options.publicUrl, options.subjectAltNames);
    const first = await loadTls(names);
    if (first === undefined) {
      throw new ServerError(
        'ERR_SERVER_CONFIG',
        `no server certificate and key that belong together in ${paths.tls}: start the server without --workers once, or give --tls-cert and --tls-key`,
      );
    }
    let tls = first;

    const ready: { plane?: ControlPlaneApp; portal?: PortalSite; portalOrigin?: string } = {};
    const requests = new RunningRequests();
    server = createServer(
      { ...SERVER_TLS_OPTIONS, key: tls.key, cert: tls.cert },
      (request, response) => {
        // Nothing is announced before the app is ready; a request racing ahead is turned away.
        if (ready.plane === undefined) {
          response.writeHead(503, { 'retry-after': '1' }).end();
          return;
        }
        requests.track(response);
        if (answerCors(request, response, ready.portalOrigin)) return;
        ready.plane.serve(request, response);
      },
    );
    // Agent channels (WebSocket); any other upgrade is answered as an ordinary request.
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => socket.destroy());
      if (ready.plane === undefined) {
        socket.end(
          'HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
        );
        return;
      }
      ready.plane.upgrade(request, socket, head);
    });
    const port = await listen(server, options.listen);
    const publicUrl = options.publicUrl ?? defaultPublicUrl(options.listen.host, port);
    let portalUrl: string | undefined;
    if (options.portal !== undefined) {
      portalServer = createServer(
        { ...SERVER_TLS_OPTIONS, key: tls.key, cert: tls.cert },
        (request, response) => {
          if (ready.portal === undefined) {
            response.writeHead(503, { 'retry-after': '1' }).end();
            return;
          }
          ready.portal.handle(request, response);
        },
      );
      const portalPort = await listen(portalServer, options.portal.listen);
      portalUrl = normalizePublicUrl(
        options.portal.publicUrl ?? defaultPublicUrl(options.portal.listen.host, portalPort),
      );
    }
    const plane = await createControlPlaneApp({
      db,
      clock: options.clock,
      publicUrl,
      ...(options.machineTimings === undefined ? {} : { machineTimings: options.machineTimings }),
      logger: {
        level: options.logLevel ?? 'info',
        stream: process.stderr,
        ...(options.worker === undefined
          ? {}
          : { base: { pid: process.pid, hostname: hostname(), worker: options.worker } }),
      },
      agentPackage: options.agentPackage,
      keyEncryptionKeys: keks,
      trustedProxies: options.trustedProxies,
      portalUrl,
      ...(options.tokenLifetimeMs === undefined
        ? {}
        : { tokenLifetimeMs: options.tokenLifetimeMs }),
      agentChannel: options.agentChannel ?? true,
    });
    await plane.app.ready();
    if (options.portal !== undefined && portalUrl !== undefined) {
      ready.portal = PortalSite.load(options.portal.dir, {
        apiUrl: plane.identity.endpoints.publicUrl,
        tenantId: plane.tenantId,
        clientId: TETHER_PORTAL_CLIENT_ID,
        portalUrl,
        caCert: tls.caCertPath === undefined ? undefined : readFileSync(tls.caCertPath, 'utf8'),
      });
      ready.portalOrigin = portalUrl;
    }
    ready.plane = plane;
    const log = plane.app.log;
    const leads = (): boolean => channel?.leader ?? true;
    logKeyStorage(log, plane.identity.keyStorage);

    const tasks = [
      new PeriodicTask(
        'signing key rotation',
        Math.min(KEY_CHECK_MS, options.keyRotationMs),
        async () => {
          if (await plane.identity.rotateIfDue(options.keyRotationMs)) {
            log.info({ kid: plane.identity.keys.signingKey().kid }, 'signing key rotated');
          }
        },
        log,
        leads,
      ),
      new PeriodicTask(
        'TLS certificate renewal',
        TLS_CHECK_MS,
        async () => {
          const renewed = await loadTls(
            certificateNames(options.listen.host, publicUrl, options.subjectAltNames),
          );
          if (renewed === undefined || renewed.cert === tls.cert) return;
          tls = renewed;
          for (const s of [server, portalServer]) {
            s?.setSecureContext({ ...SERVER_TLS_OPTIONS, key: tls.key, cert: tls.cert });
          }
          log.info({ notAfter: new Date(tls.notAfter).toISOString() }, 'TLS certificate replaced');
        },
        log,
      ),
      new PeriodicTask(
        'extension request expiry',
        sweepIntervalFor(plane.machineTimings.extensionRequestTimeoutMs),
        async () => {
          const expired = await plane.sweepExtensionOperations();
          if (expired > 0)
            log.info({ expired }, 'extension operations failed: machine not reached');
        },
        log,
        leads,
      ),
      // Heartbeats appended to the liveness log are moved into the machines' rows; reads see
      // them before that, so this only keeps the log short.
      new PeriodicTask(
        'liveness log fold',
        LIVENESS_FOLD_MS,
        (signal) => foldLivenessLog(db, { signal }).then(() => undefined),
        log,
        leads,
      ),
      // Matching a node asked for and did not finish (it died) is taken up by the leader.
      new PeriodicTask(
        'unfinished policy matching',
        POLICY_MATCH_RESUME_MS,
        () => {
          PolicyMatcher.existing(db)?.start();
          return Promise.resolve();
        },
        log,
        leads,
      ),
    ];
    for (const task of tasks) {
      task.runOnce();
      task.start();
    }
    // A node that becomes the leader catches up at once on what the last one may have left.
    channel?.onLeadership(() => {
      for (const task of tasks) task.runOnce();
    });
    // `tether backup` reaches a running SQLite server here (the file is this process's alone).
    const admin =
      location.kind === 'sqlite' ? await listenForAdministration(paths.root, db, log) : undefined;
    const running = server;
    const clusterChannel = channel;
    const portal = portalServer;
    return {
      url: plane.identity.endpoints.publicUrl,
      portalUrl,
      app: plane.app,
      close: async () => {
        // The portal's files are answered at once; nothing there is long-lived.
        const portalClosed =
          portal === undefined
            ? Promise.resolve()
            : new Promise<void>((resolve) => portal.close(() => resolve()));
        portal?.closeAllConnections();
        await shutdown(running, requests, plane, db, clusterChannel, admin, tasks, log);
        await portalClosed;
      },
    };
  } catch (error) {
    server?.close();
    portalServer?.close();
    await channel?.close();
    await db.destroy();
    throw error;
  }
}

/**
 * The admin socket, if the data directory allows one: a Unix socket path is limited to about
 * 100 bytes, and a server on a deeper directory still serves, backed up only while stopped.
 */
async function listenForAdministration(
  dataDir: string,
  db: Kysely<Database>,
  log: FastifyBaseLogger,
): Promise<AdminSocket | undefined> {
  try {
    return await AdminSocket.listen(dataDir, db, log);
  } catch (error) {
    log.warn(
      { err: error, dataDir },
      'no admin socket in the data directory: tether backup works only while the server is stopped',
    );
    return undefined;
  }
}

function logKeyStorage(log: FastifyBaseLogger, storage: SigningKeyStorage): void {
  if (storage.kind === 'clear') {
    log.warn(
      'token signing keys are stored unencrypted: give --key-encryption-key-file to wrap them',
    );
  } else if (storage.wrappedNow > 0) {
    log.info(
      { kekId: storage.kekId, keys: storage.wrappedNow },
      'token signing keys wrapped with the key-encryption key',
    );
  }
}

/**
 * Responses whose route handler is running now, as Fastify reports it on its tracing channel
 * (Node.js 20.13 and later publish it): a handler whose client left may still be working, and
 * may never end its response (Fastify sends nothing once the client has gone).
 */
interface HandlerStore {
  readonly reply: { readonly raw: ServerResponse };
  readonly async: boolean;
}
tracingChannel<string, HandlerStore & object>('fastify.request.handler').subscribe({
  start: (store) => void runningHandlers.add(store.reply.raw),
  end: (store) => {
    if (!store.async) runningHandlers.delete(store.reply.raw);
  },
  asyncStart: () => undefined,
  asyncEnd: (store) => void runningHandlers.delete(store.reply.raw),
  error: () => undefined,
});

/**
 * The requests being answered now: from the moment one reaches the server until its answer has
 * been ended, or, when its client went away first, until its handler has returned. On shutdown
 * each is told to close its connection when it ends, so that an agent answered there does not
 * poll again on the same connection but opens a new one, which the load balancer gives to
 * another node; and the store is closed only once none is left running.
 */
class RunningRequests {
  private readonly running = new Set<ServerResponse>();
  /** Requests whose connection closed while their handler was still running. */
  private readonly abandoned = new Set<ServerResponse>();
  private stopping = false;

  track(response: ServerResponse): void {
    if (this.stopping) response.shouldKeepAlive = false;
    this.running.add(response);
    response.once('close', () => {
      this.running.delete(response);
      this.pruneAbandoned();
      if (!response.writableEnded && runningHandlers.has(response)) this.abandoned.add(response);
    });
  }

  stop(): void {
    this.stopping = true;
    for (const response of this.running) {
      if (!response.headersSent) response.shouldKeepAlive = false;
    }
  }

  /** Whether every request that reached the server has been answered or has given up. */
  get settled(): boolean {
    this.pruneAbandoned();
    if (this.abandoned.size > 0) return false;
    for (const response of this.running) if (!response.writableEnded) return false;
    return true;
  }

  private pruneAbandoned(): void {
    for (const response of this.abandoned) {
      if (response.writableEnded || !runningHandlers.has(response)) this.abandoned.delete(response);
    }
  }
}

function workerBinding(worker: number | undefined): object {
  return worker === undefined ? {} : { worker };
}

function databaseLocation(options: ServerOptions, sqliteFile: string): DatabaseLocation {
  if (options.databaseUrl !== undefined) {
    return {
      kind: 'postgres',
      url: options.databaseUrl,
      ...(options.databasePoolSize === undefined ? {} : { poolSize: options.databasePoolSize }),
    };
  }
  if (!existsSync(sqliteFile)) {
    throw new ServerError(
      'ERR_NOT_INITIALIZED',
      `${options.dataDir} holds no Tether database (${sqliteFile}); run \`tether init --data-dir ${options.dataDir}\` first`,
    );
  }
  return { kind: 'sqlite', file: sqliteFile };
}

function listen(server: Server, address: ListenAddress): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** How long running requests may take to finish once a node is stopping. */
const SHUTDOWN_CUT_OFF_MS = 10_000;

/**
 * Stops accepting, answers the long polls held here at once (each response closing its
 * connection), closes idle keep-alive connections, lets the requests still running finish
 * (10 s at most), including those whose client has gone away, then closes the database: a
 * request is never left to find the store closed under it.
 */
async function shutdown(
  server: Server,
  requests: RunningRequests,
  plane: ControlPlaneApp,
  db: Kysely<Database>,
  channel: ClusterChannel | undefined,
  admin: AdminSocket | undefined,
  tasks: readonly PeriodicTask[],
  log: FastifyBaseLogger,
): Promise<void> {
  let connectionsClosed = false;
  server.close(() => (connectionsClosed = true));
  requests.stop();
  // Each channel closes (1001) once the heartbeats it is storing are answered.
  const channels = plane.agentChannels;
  channels.stop();
  // Agents' long polls would otherwise hold their connections for up to a minute; a poll that
  // arrives on an open connection after this is answered at the next sweep.
  const answerPolls = (): void => {
    GoalStateWaiters.of(db).wakeAll();
    gcWaitersOf(db)?.wakeAll();
    operationWaitersOf(db).wakeAll();
  };
  answerPolls();
  server.closeIdleConnections();
  const cutOff = Date.now() + SHUTDOWN_CUT_OFF_MS;
  await new Promise<void>((resolve) => {
    // A connection whose last answer is still being written becomes idle a moment later.
    const sweep = setInterval(() => {
      answerPolls();
      server.closeIdleConnections();
      if (connectionsClosed && requests.settled && channels.settled) {
        clearInterval(sweep);
        resolve();
      } else if (Date.now() >= cutOff) {
        clearInterval(sweep);
        log.warn(
          'requests still running at the 10 s shutdown cut-off: their connections are closed',
        );
        server.closeAllConnections();
        channels.terminate();
        resolve();
      }
    }, 50);
  });
  await channel?.close();
  await admin?.close();
  await Promise.all(tasks.map((t) => t.stop()));
  await plane.app.close();
  await db.destroy();
  log.info('tether stopped');
}
