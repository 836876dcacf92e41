// Authorization as data: every route declares the access it needs, and registerRoutes is the
// one place that authenticates, authorizes, checks api-version and writes the activity log.
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthorizationEngine } from '../rbac/types.js';
import type { Write } from '../store/group-commit.js';
import type { ActivityEvent, ActivityLog } from './activity-log.js';
import { ArmError } from './arm-error.js';
import { MAX_BODY_DEPTH, tooDeepAt } from './body-depth.js';
import type { Authenticator, Caller } from './caller.js';
import { requestId } from './request-id.js';

export type HttpMethod = 'GET' | 'HEAD' | 'PUT' | 'PATCH' | 'DELETE' | 'POST';

/** Methods that only read: never logged as writes. */
const READ_METHODS: ReadonlySet<HttpMethod> = new Set(['GET', 'HEAD']);

export type RouteAccess =
  /** No token: discovery and token endpoints. */
  | { kind: 'public' }
  /** Any valid token; the handler answers only about the caller itself. */
  | { kind: 'authenticated' }
  /** The caller needs `action` at `scope(request)` or above it. */
  | { kind: 'action'; action: string; scope: (request: FastifyRequest) => string };

export interface RouteContext {
  request: FastifyRequest;
  reply: FastifyReply;
  /** Present on every route but public ones. */
  caller: Caller | undefined;
  correlationId: string;
  /** Where the route's action was checked: `access.scope(request)`; '' for other access kinds. */
  scope: string;
  /**
   * A further check decided by what the request finds (overwriting an existing machine needs
   * more than creating one). Throws AuthorizationFailed, and logs the denial, when refused.
   */
  demand(action: string, scope: string): Promise<void>;
  /**
   * Commits `write` as the request's last step, in one transaction with its activity-log record
   * of success (the status code set by then), shared with concurrent requests' writes; success
   * is not logged again after the handler. A route kept out of the log commits `write` alone.
   */
  commit(write: Write): Promise<void>;
}

export interface RouteSpec {
  method: HttpMethod;
  url: string;
  access: RouteAccess;
  /** Accepted api-versions; omitted for non-ARM routes (identity, directory). */
  apiVersions?: readonly string[];
  /** The activity-log operation name of a write; defaults to the access action. */
  operationName?: string;
  /**
   * `false` keeps a write's successes out of the activity log: agents' own status reports
   * (heartbeats), which Azure does not log either and which would otherwise bury operators'
   * actions. Refused and failed ones are still logged: they are what an operator looks for.
   */
  activityLog?: false;
  /** Largest request body accepted, in bytes, when more than the server's default (1 MiB). */
  bodyLimit?: number;
  /** Returns the response body; set reply.code() for anything but 200. */
  handler(context: RouteContext): Promise<unknown>;
}

export interface RouteDependencies {
  authenticator: Authenticator;
  authorizer: AuthorizationEngine;
  activityLog: ActivityLog;
}

const ROUTE_ACCESS = Symbol('tether.routeAccess');

/** Refuses, at start-up, any route registered without an access declaration. */
export function requireDeclaredAccess(app: FastifyInstance): void {
  app.addHook('onRoute', (options) => {
    const config = options.config as Record<symbol, unknown> | undefined;
    if (config?.[ROUTE_ACCESS] === undefined) {
      throw new Error(`route ${String(options.method)} ${options.url} declares no access`);
    }
  });
}

/** The largest body a route takes when it declares none. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/** What admission decided about a request, before its body was read. */
export interface Admission {
  readonly correlationId: string;
  readonly caller: Caller | undefined;
  readonly resourceId: string;
  readonly operationName: string;
}

const ADMISSIONS = new WeakMap<FastifyRequest, Admission>();

export function registerRoutes(
  app: FastifyInstance,
  routes: readonly RouteSpec[],
  deps: RouteDependencies,
): void {
  for (const route of routes) {
    app.route({
      method: route.method,
      url: route.url,
      config: { [ROUTE_ACCESS]: route.access },
      bodyLimit: route.bodyLimit ?? DEFAULT_BODY_LIMIT,
      // Before Fastify reads a byte of the body: an anonymous or unauthorized caller, or a
      // body larger than the route takes, costs the server nothing but the headers.
      onRequest: async (request, reply) => {
        ADMISSIONS.set(request, await admit(route, deps, request, reply));
      },
      handler: (request, reply) => handle(route, deps, request, reply),
    });
  }
}

async function admit(
  route: RouteSpec,
  deps: RouteDependencies,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<Admission> {
  const correlationId = correlationIdOf(request);
  void reply.header('x-ms-correlation-request-id', correlationId);
  void reply.header('x-ms-request-id', requestId());
  checkApiVersion(route, request);

  const access = route.access;
  const authorization = request.headers.authorization;
  const caller =
    access.kind === 'public'
      ? undefined
      : (deps.authenticator.known?.(authorization) ??
        (await deps.authenticator.authenticate(authorization)));
  let operationName = route.operationName ?? '';
  let resourceId = '';
  if (access.kind === 'action') {
    resourceId = access.scope(request);
    operationName = route.operationName ?? access.action;
    if (
      caller === undefined ||
      !deps.authorizer.isAllowed(caller.principalId, access.action, resourceId)
    ) {
      await logRefusal(
        deps,
        route,
        request.ip,
        { correlationId, caller, resourceId, operationName },
        access.action,
        resourceId,
      );
      throw loggedAlready(authorizationFailed(caller, access.action, resourceId));
    }
  }
  checkDeclaredBody(route, request);
  return { correlationId, caller, resourceId, operationName };
}

/**
 * Admission of `caller` for a lean path in front of the router: the route's action allowed at
 * `scope`, an api-version it serves and a JSON body no larger than it takes. Undefined whenever
 * the full admission must decide, which also answers and logs any refusal exactly as for every
 * other route.
 */
export function admitCaller(
  route: RouteSpec,
  deps: RouteDependencies,
  request: { headers: IncomingHttpHeaders; apiVersion: string; scope: string },
  caller: Caller,
): Admission | undefined {
  const access = route.access;
  if (access.kind !== 'action' || route.apiVersions?.includes(request.apiVersion) !== true) {
    return undefined;
  }
  const { headers, scope } = request;
  const declared = Number(headers['content-length']);
  if (!(declared <= (route.bodyLimit ?? DEFAULT_BODY_LIMIT))) return undefined;
  if (!deps.authorizer.isAllowed(caller.principalId, access.action, scope)) return undefined;
  return {
    correlationId: correlationIdOf({ headers }),
    caller,
    resourceId: scope,
    operationName: route.operationName ?? access.action,
  };
}

/** The activity-log event of a caller refused `action` at `scope` (writes only; reads are not logged). */
export async function logRefusal(
  deps: RouteDependencies,
  route: RouteSpec,
  clientIp: string,
  admission: Admission,
  action: string,
  scope: string,
): Promise<void> {
  if (READ_METHODS.has(route.method) || admission.caller === undefined) return;
  await deps.activityLog.record({
    correlationId: admission.correlationId,
    caller: admission.caller.name,
    operationName: action,
    status: 'Failed',
    subStatus: 'AuthorizationFailed',
    resourceId: scope,
    httpMethod: route.method,
    clientIp,
  });
}

async function handle(
  route: RouteSpec,
  deps: RouteDependencies,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<unknown> {
  const admission = ADMISSIONS.get(request);
  if (admission === undefined)
    throw new Error(`${route.method} ${route.url} ran without admission`);
  const { correlationId, caller, resourceId, operationName } = admission;
  const isWrite = !READ_METHODS.has(route.method);
  const log = (
    status: 'Succeeded' | 'Failed',
    subStatus: string,
    operationName: string,
    resourceId: string,
  ): Promise<void> =>
    logOutcome(deps, route, { correlationId, caller, resourceId, operationName }, request.ip, {
      status,
      subStatus,
      operationName,
      resourceId,
    });
  let committed = false;
  const commit = async (write: Write): Promise<void> => {
    if (committed) throw new Error(`${route.method} ${route.url} committed twice`);
    const event = outcomeEvent(route, admission, request.ip, {
      status: 'Succeeded',
      subStatus: String(reply.statusCode),
      operationName,
      resourceId,
    });
    await deps.activityLog.recordWith(event, write);
    committed = true;
  };
  const demand = async (action: string, scope: string): Promise<void> => {
    if (caller !== undefined && deps.authorizer.isAllowed(caller.principalId, action, scope))
      return;
    await log('Failed', 'AuthorizationFailed', action, scope);
    throw loggedAlready(authorizationFailed(caller, action, scope));
  };

  checkBodyDepth(request.body);
  try {
    const body = await route.handler({
      request,
      reply,
      caller,
      correlationId,
      scope: resourceId,
      demand,
      commit,
    });
    if (isWrite && !committed) {
      await log('Succeeded', String(reply.statusCode), operationName, resourceId);
    }
    return body;
  } catch (error) {
    await logFailure(deps, route, admission, request.ip, error);
    throw error;
  }
}

/** Refuses a body nested deeper than any resource needs, naming where. */
export function checkBodyDepth(body: unknown): void {
  const deepAt = tooDeepAt(body);
  if (deepAt !== undefined) {
    throw new ArmError(
      'InvalidRequestContent',
      `The request body nests more than ${MAX_BODY_DEPTH} levels deep (at '${deepAt.slice(0, 200)}'); flatten it.`,
      { target: deepAt.split(/[.[]/)[0] ?? '' },
    );
  }
}

interface Outcome {
  status: 'Succeeded' | 'Failed';
  subStatus: string;
  operationName: string;
  resourceId: string;
}

/** The activity-log event of a write's outcome; undefined for reads and anonymous calls. */
function outcomeEvent(
  route: RouteSpec,
  admission: Admission,
  clientIp: string,
  outcome: Outcome,
): ActivityEvent | undefined {
  if (READ_METHODS.has(route.method) || admission.caller === undefined) return undefined;
  if (route.activityLog === false && outcome.status === 'Succeeded') return undefined;
  return {
    correlationId: admission.correlationId,
    caller: admission.caller.name,
    ...outcome,
    httpMethod: route.method,
    clientIp,
  };
}

async function logOutcome(
  deps: RouteDependencies,
  route: RouteSpec,
  admission: Admission,
  clientIp: string,
  outcome: Outcome,
): Promise<void> {
  const event = outcomeEvent(route, admission, clientIp, outcome);
  if (event !== undefined) await deps.activityLog.record(event);
}

/** Refusals whose activity-log event was written where they were decided. */
const LOGGED_REFUSALS = new WeakSet<object>();

function loggedAlready(error: ArmError): ArmError {
  LOGGED_REFUSALS.add(error);
  return error;
}

/**
 * Logs the failure of an admitted write, unless it is a refusal logged where it was decided
 * (admission or demand()). A refusal a handler throws itself is logged here like any failure.
 */
export async function logFailure(
  deps: RouteDependencies,
  route: RouteSpec,
  admission: Admission,
  clientIp: string,
  error: unknown,
): Promise<void> {
  if (typeof error === 'object' && error !== null && LOGGED_REFUSALS.has(error)) return;
  await logOutcome(deps, route, admission, clientIp, {
    status: 'Failed',
    subStatus: error instanceof ArmError ? error.code : 'InternalServerError',
    operationName: admission.operationName,
    resourceId: admission.resourceId,
  });
}

/**
 * What the headers say about the body, checked before it is read: no more than the route
 * takes (Content-Length), and on Resource Manager routes JSON only — a form body there is a
 * browser's cross-site form post, never a client of this API.
 */
function checkDeclaredBody(route: RouteSpec, request: FastifyRequest): void {
  const limit = route.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > limit) {
    throw new ArmError(
      'RequestEntityTooLarge',
      `The request body is ${declared} bytes; ${route.method} ${route.url} takes at most ${limit}.`,
    );
  }
  const type = request.headers['content-type'];
  if (
    route.apiVersions !== undefined &&
    typeof type === 'string' &&
    /^\s*(application\/x-www-form-urlencoded|multipart\/form-data|text\/plain)\b/i.test(type)
  ) {
    throw new ArmError(
      'UnsupportedMediaType',
      `The content type '${type.split(';')[0] ?? type}' is not supported; send the body as application/json.`,
      { target: 'Content-Type' },
    );
  }
}

export function authorizationFailed(
  caller: Caller | undefined,
  action: string,
  scope: string,
): ArmError {
  const who =
    caller === undefined ? 'anonymous' : `'${caller.name}' with object id '${caller.principalId}'`;
  return new ArmError(
    'AuthorizationFailed',
    `The client ${who} does not have authorization to perform action '${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
  );
}

function checkApiVersion(route: RouteSpec, request: FastifyRequest): void {
  if (route.apiVersions === undefined) return;
  const query = request.query as Record<string, string | string[] | undefined>;
  const version = query['api-version'];
  if (version === undefined || version === '') {
    throw new ArmError(
      'MissingApiVersionParameter',
      'The api-version query parameter (?api-version=) is required for all requests.',
      { target: 'api-version' },
    );
  }
  if (typeof version !== 'string' || !route.apiVersions.includes(version)) {
    throw new ArmError(
      'InvalidApiVersionParameter',
      `The api-version '${String(version)}' is invalid. The supported versions are '${route.apiVersions.join(',')}'.`,
      { target: 'api-version' },
    );
  }
}

export function correlationIdOf(request: { headers: IncomingHttpHeaders }): string {
  const given = request.headers['x-ms-correlation-request-id'];
  const valid = typeof given === 'string' && /^[0-9a-fA-F-]{8,64}$/.test(given);
  return valid ? given : requestId();
}
