// The Fastify instance every control-plane route lives in: ARM path rules (case-insensitive,
// doubled slashes tolerated), form bodies for the token endpoint, and ARM-shaped errors.
import fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { ArmError } from './arm-error.js';
import { lazyRequestLoggers } from './request-logger.js';
import {
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
}

export function buildApp(options: AppOptions): FastifyInstance {
  const app = fastify({
    ...(options.https === undefined ? {} : { https: options.https }),
    logger: options.logger ?? false,
    ...(options.logger === undefined || options.logger === false
      ? {}
      : { childLoggerFactory: lazyRequestLoggers }),
    routerOptions: {
      caseSensitive: false,
      ignoreDuplicateSlashes: true,
      ignoreTrailingSlash: true,
    },
    bodyLimit: 1024 * 1024,
    trustProxy: false,
  }) as unknown as FastifyInstance;

  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    },
  );

  app.setErrorHandler((error, request, reply) => {
    if (error instanceof ArmError) {
      return reply.code(error.status).send(error.toBody());
    }
    const fastifyError = error as { statusCode?: number; code?: string; message?: string };
    if (fastifyError.statusCode !== undefined && fastifyError.statusCode < 500) {
      const invalid = new ArmError(
        'InvalidRequestContent',
        `The request content was invalid and could not be deserialized: ${fastifyError.message ?? 'unreadable body'}.`,
      );
      return reply.code(fastifyError.statusCode === 413 ? 413 : 400).send(invalid.toBody());
    }
    request.log.error({ err: error }, 'unhandled error');
    const internal = new ArmError(
      'InternalServerError',
      `The server encountered an internal error. Correlation id: ${String(reply.getHeader('x-ms-correlation-request-id') ?? '')}.`,
    );
    return reply.code(500).send(internal.toBody());
  });

  app.setNotFoundHandler((request, reply) => {
    const error = new ArmError(
      'ResourceNotFound',
      `No route matches ${request.method} ${request.url.split('?')[0] ?? ''}.`,
    );
    return reply.code(404).send(error.toBody());
  });

  requireDeclaredAccess(app);
  registerRoutes(app, options.routes, options.deps);
  return app;
}
