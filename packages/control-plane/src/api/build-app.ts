// The Fastify instance every control-plane route lives in: ARM path rules (case-insensitive,
// doubled slashes tolerated), form bodies for the token endpoint, and ARM-shaped errors.
import fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyServerOptions,
} from 'fastify';
import {
  isStorageFull,
  isStoreUnavailable,
  storeBusyOf,
  type StoreBusyError,
} from '../store/store-unavailable.js';
import { ArmError, TooManyRequestsError } from './arm-error.js';
import { lazyRequestLoggers } from './request-logger.js';
import {
  DEFAULT_BODY_LIMIT,
  registerRoutes,
  requireDeclaredAccess,
  type RouteDependencies,
  type RouteSpec,
} from './route-spec.js';

export interface AppOptions {
  routes: readonly RouteSpec[];
  deps: RouteDependencies;
  /** PEM key and certificate; omitted only for in-process tests that use inject(). */
  https?: { key: string; cert: string };
  logger?: FastifyServerOptions['logger'];
  /**
   * False while what this node holds in memory cannot be trusted (another node's changes may
   * have been missed): every request but the health checks is answered 503.
   */
  available?: () => boolean;
  /** Addresses whose X-Forwarded-For is believed (the load balancer's); nobody's by default. */
  trustedProxies?: readonly string[] | undefined;
}

/** What a 503 asks clients to wait while the database cannot be reached. */
export const STORE_RETRY_AFTER_SECONDS = 5;

export function storeUnavailable(): ArmError {
  return new ArmError(
    'ServiceUnavailable',
    `The control plane cannot reach its database right now; try again in ${STORE_RETRY_AFTER_SECONDS} s.`,
  );
}

/**
 * What a 503 asks clients to wait while every database connection of the node is busy: a few
 * seconds, drawn anew for each answer, so that clients turned away together come back spread out.
 */
export const STORE_BUSY_RETRY_AFTER_SECONDS = { min: 2, max: 6 } as const;

export function storeBusy(busy: StoreBusyError, retryAfterSeconds: number): ArmError {
  return new ArmError(
    'ServiceUnavailable',
    `This control-plane node is busy: all ${busy.poolSize} of its database connections stayed in use for ${busy.waitedMs / 1000} s. Try again in ${retryAfterSeconds} s; a node with more connections (--database-pool-size) or another node may take the request.`,
  );
}

/** What a 507 asks clients to wait while the database's disk is full. */
export const STORAGE_FULL_RETRY_AFTER_SECONDS = 30;

export function storageFull(): ArmError {
  return new ArmError(
    'InsufficientStorage',
    "The control plane's database disk is full, so the request was not applied; free space on its data disk and try again.",
  );
}

/** The status, headers and ARM body that answer a request failed with `error`. */
export interface ErrorAnswer {
  status: number;
  headers: Record<string, string>;
  body: ReturnType<ArmError['toBody']>;
}

/** How every error is answered, logged on `log` when it is the server's own. */
export function errorAnswer(
  error: unknown,
  log: Pick<FastifyBaseLogger, 'warn' | 'error'>,
  correlationId: string,
): ErrorAnswer {
  if (error instanceof ArmError) {
    return {
      status: error.status,
      headers:
        error instanceof TooManyRequestsError
          ? { 'retry-after': String(error.retryAfterSeconds) }
          : {},
      body: error.toBody(),
    };
  }
  const fastifyError = error as { statusCode?: number; code?: string; message?: string };
  if (fastifyError.statusCode !== undefined && fastifyError.statusCode < 500) {
    const invalid = new ArmError(
      'InvalidRequestContent',
      `The request content was invalid and could not be deserialized: ${fastifyError.message ?? 'unreadable body'}.`,
    );
    return {
      status: fastifyError.statusCode === 413 ? 413 : 400,
      headers: {},
      body: invalid.toBody(),
    };
  }
  const busy = storeBusyOf(error);
  if (busy !== undefined) {
    log.warn({ err: error }, 'database connections busy');
    const { min, max } = STORE_BUSY_RETRY_AFTER_SECONDS;
    const seconds = min + Math.floor(Math.random() * (max - min + 1));
    return {
      status: 503,
      headers: { 'retry-after': String(seconds) },
      body: storeBusy(busy, seconds).toBody(),
    };
  }
  if (isStoreUnavailable(error)) {
    log.warn({ err: error }, 'database unavailable');
    return {
      status: 503,
      headers: { 'retry-after': String(STORE_RETRY_AFTER_SECONDS) },
      body: storeUnavailable().toBody(),
    };
  }
  if (isStorageFull(error)) {
    log.error({ err: error }, 'database disk full');
    return {
      status: 507,
      headers: { 'retry-after': String(STORAGE_FULL_RETRY_AFTER_SECONDS) },
      body: storageFull().toBody(),
    };
  }
  log.error({ err: error }, 'unhandled error');
  const internal = new ArmError(
    'InternalServerError',
    `The server encountered an internal error. Correlation id: ${correlationId}.`,
  );
  return { status: 500, headers: {}, body: internal.toBody() };
}

/** The longest path segment a route matches: ARM names are at most 260 characters. */
const MAX_SEGMENT_LENGTH = 260;

export function buildApp(options: AppOptions): FastifyInstance {
  const app = fastify({
    ...(options.https === undefined ? {} : { https: options.https }),
    logger: options.logger ?? false,
    ...(options.logger === undefined || options.logger === false
      ? {}
      : { childLoggerFactory: lazyRequestLoggers }),
    routerOptions: {
      maxParamLength: MAX_SEGMENT_LENGTH,
      caseSensitive: false,
      ignoreDuplicateSlashes: true,
      ignoreTrailingSlash: true,
    },
    bodyLimit: DEFAULT_BODY_LIMIT,
    trustProxy:
      options.trustedProxies === undefined || options.trustedProxies.length === 0
        ? false
        : [...options.trustedProxies],
    // Errors the router answers before any route runs (a path segment longer than a resource
    // name can be, a malformed URL) in the same ARM shape as every other error.
    frameworkErrors: (error, _request, reply) => {
      const code = (error as { code?: string }).code;
      const armError =
        code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? new ArmError(
              'RequestUriTooLong',
              `A segment of the request path is longer than ${MAX_SEGMENT_LENGTH} characters, more than any resource name or id part may be.`,
            )
          : new ArmError('BadRequest', `The request path cannot be read: ${error.message}.`);
      void (reply as FastifyReply).code(armError.status).send(armError.toBody());
    },
  }) as unknown as FastifyInstance;

  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    },
  );

  app.setErrorHandler((error, request, reply) => {
    const correlationId = reply.getHeader('x-ms-correlation-request-id');
    const answer = errorAnswer(error, request.log, String(correlationId ?? ''));
    return reply.code(answer.status).headers(answer.headers).send(answer.body);
  });

  app.setNotFoundHandler((request, reply) => {
    const error = new ArmError(
      'ResourceNotFound',
      `No route matches ${request.method} ${request.url.split('?')[0] ?? ''}.`,
    );
    return reply.code(404).send(error.toBody());
  });

  const available = options.available;
  if (available !== undefined) {
    app.addHook('onRequest', (request, reply, done) => {
      const path = request.url.split('?')[0] ?? '';
      if (available() || path === '/healthz' || path === '/readyz') {
        done();
        return;
      }
      void reply
        .code(503)
        .header('retry-after', String(STORE_RETRY_AFTER_SECONDS))
        .send(storeUnavailable().toBody());
    });
  }

  requireDeclaredAccess(app);
  registerRoutes(app, options.routes, options.deps);
  return app;
}
