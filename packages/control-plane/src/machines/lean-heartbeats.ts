// Heartbeats answered in front of the router: at one every few minutes from every machine they
// are most of a server's requests, and the framework's per-request work cost more than the
// heartbeat's own. Only the exact path an agent sends with a recently verified token, an allowed
// action and a JSON body is answered here, through the same admission, service and error
// answers as the route; anything else (a refusal included) goes on to the router untouched.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';
import type { FastifyBaseLogger } from 'fastify';
import secureJson from 'secure-json-parse';
import { errorAnswer, type ErrorAnswer } from '../api/build-app.js';
import { runningHandlers } from '../api/running-handlers.js';
import {
  admitCaller,
  checkBodyDepth,
  logFailure,
  type Admission,
  type RouteDependencies,
  type RouteSpec,
} from '../api/route-spec.js';
import { validMachineScope } from '../resources/arm-scope.js';
import type { HeartbeatService } from './heartbeat-service.js';

/** The one spelling agents send; other spellings the router also takes are left to it. */
const HEARTBEAT_PATH =
  /^\/subscriptions\/([^/?#%]+)\/resourceGroups\/([^/?#%]+)\/providers\/Microsoft\.HybridCompute\/machines\/([^/?#%]+)\/heartbeat\?api-version=([^&#%]*)$/;
const JSON_TYPE = /^application\/json\s*(;\s*charset=utf-8\s*)?$/i;
/** The router's JSON parser refuses these keys (prototype poisoning); so does this path. */
const PARSE_OPTIONS = { protoAction: 'error', constructorAction: 'error' } as const;
const JSON_ANSWER = 'application/json; charset=utf-8';

export interface LeanHeartbeatsOptions {
  /** The heartbeat route: its access, api-versions and body limit hold here too. */
  route: RouteSpec;
  service: HeartbeatService;
  deps: RouteDependencies;
  /** False while the node must answer 503: the router does that. */
  available?: () => boolean;
  /** Load balancers whose X-Forwarded-For names the client, as the router believes them. */
  trustedProxies?: readonly string[] | undefined;
  log: FastifyBaseLogger & { isLevelEnabled?(level: string): boolean };
}

/** A body the router's JSON parser would have refused, answered as it answers it. */
class UnreadableBody extends Error {
  readonly statusCode = 400;
}

export class LeanHeartbeats {
  /** Heartbeats this path has answered or is answering. */
  taken = 0;
  private readonly trust: ((address: string, hop: number) => boolean) | undefined;

  constructor(private readonly options: LeanHeartbeatsOptions) {
    const proxies = options.trustedProxies;
    this.trust =
      proxies === undefined || proxies.length === 0 ? undefined : proxyAddr.compile([...proxies]);
  }

  /**
   * Takes the request and returns true when it is a heartbeat this path answers. A token due for
   * checking again is checked first; if it is refused, or the caller may not heartbeat there, the
   * request goes to `router` with its body unread, and the router answers and logs the refusal.
   */
  handle(
    request: IncomingMessage,
    response: ServerResponse,
    router: (request: IncomingMessage, response: ServerResponse) => void,
  ): boolean {
    if (request.method !== 'POST') return false;
    const match = HEARTBEAT_PATH.exec(request.url ?? '');
    if (match === null) return false;
    const { route, deps, available } = this.options;
    const headers = request.headers;
    const authorization = headers.authorization;
    if (
      authorization === undefined ||
      available?.() === false ||
      headers['transfer-encoding'] !== undefined ||
      !(Number(headers['content-length']) > 0) ||
      !JSON_TYPE.test(headers['content-type'] ?? '')
    ) {
      return false;
    }
    const [, subscription = '', group = '', machine = '', apiVersion = ''] = match;
    const scope = validMachineScope(subscription, group, machine);
    if (scope === undefined) {
      return false;
    }
    const target = { headers, apiVersion, scope };
    const known = deps.authenticator.known?.(authorization);
    if (known !== undefined) {
      const admission = admitCaller(route, deps, target, known);
      if (admission === undefined) return false;
      this.receive(request, response, admission);
      return true;
    }
    // Verified again (its principal and credential still live), as the router would.
    deps.authenticator.authenticate(authorization).then(
      (caller) => {
        const admission = admitCaller(route, deps, target, caller);
        if (admission === undefined) router(request, response);
        else this.receive(request, response, admission);
      },
      () => router(request, response),
    );
    return true;
  }

  private receive(request: IncomingMessage, response: ServerResponse, admission: Admission): void {
    this.taken++;
    const log = this.options.log;
    // The line the router writes for every request, at the level it writes it.
    if (log.isLevelEnabled?.('info') === true) {
      const started = performance.now();
      response.once('finish', () => {
        log.info(
          {
            method: request.method,
            url: request.url,
            remoteAddress: request.socket.remoteAddress,
            statusCode: response.statusCode,
            responseTime: performance.now() - started,
            correlationId: admission.correlationId,
          },
          'request completed',
        );
      });
    }
    response.setHeader('x-ms-correlation-request-id', admission.correlationId);
    response.setHeader('x-ms-request-id', randomUUID());
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    // The client went away mid-body: there is nobody to answer.
    request.once('error', ignore);
    request.once('end', () => {
      runningHandlers.add(response);
      void this.answer(
        request,
        response,
        admission,
        Buffer.concat(chunks).toString('utf8'),
      ).finally(() => runningHandlers.delete(response));
    });
  }

  private async answer(
    request: IncomingMessage,
    response: ServerResponse,
    admission: Admission,
    text: string,
  ): Promise<void> {
    const { route, deps, service, log } = this.options;
    let body: unknown;
    try {
      body = secureJson.parse(text, undefined, PARSE_OPTIONS);
    } catch {
      // As the router: the rest of what the client sends cannot be trusted to frame requests.
      response.setHeader('connection', 'close');
      const unreadable = new UnreadableBody(
        "Body is not valid JSON but content-type is set to 'application/json'",
      );
      send(response, errorAnswer(unreadable, log, admission.correlationId));
      return;
    }
    try {
      checkBodyDepth(body);
    } catch (error) {
      send(response, errorAnswer(error, log, admission.correlationId));
      return;
    }
    const clientIp = (): string =>
      this.trust === undefined
        ? (request.socket.remoteAddress ?? '')
        : (proxyAddr.all(request, this.trust).at(-1) ?? '');
    try {
      const answer = await service.answer({
        machineId: admission.resourceId,
        body,
        caller: admission.caller,
        correlationId: () => admission.correlationId,
        clientIp,
      });
      const payload = JSON.stringify(answer);
      response.writeHead(200, {
        'content-type': JSON_ANSWER,
        'content-length': Buffer.byteLength(payload),
      });
      response.end(payload);
    } catch (error) {
      // As the router: a failure that cannot be logged is answered as that failure.
      let failure = error;
      try {
        await logFailure(deps, route, admission, clientIp(), error);
      } catch (logError) {
        failure = logError;
      }
      send(response, errorAnswer(failure, log, admission.correlationId));
    }
  }
}

function ignore(): void {}

function send(response: ServerResponse, answer: ErrorAnswer): void {
  const payload = JSON.stringify(answer.body);
  response.writeHead(answer.status, {
    ...answer.headers,
    'content-type': JSON_ANSWER,
    'content-length': Buffer.byteLength(payload),
  });
  response.end(payload);
}
