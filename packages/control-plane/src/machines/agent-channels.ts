// The agent channels of one node: WebSocket upgrades at a machine's own
// `…/machines/{m}/agentChannel?api-version=…`, admitted exactly as its heartbeat (the same token
// check, the same action at the same machine, the same api-versions, the same 503 while the node
// cannot serve). Every refused upgrade goes to the router as an ordinary request, which answers
// and logs it with the HTTP error body of any route. Open channels are pinged and dropped when
// they stop answering, closed when their token expires, and closed with 1001 when the node stops.
// While open, a channel tells its agent of every change to the machine's goal states (extensions,
// guest configuration), made through any node: the agent fetches them then, and holds no long poll.
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import proxyAddr from '@fastify/proxy-addr';
import { AGENT_CHANNEL_CLOSE, GOAL_STATE_NOTICES, type GoalStateNotice } from '@tether/protocol';
import type { FastifyBaseLogger } from 'fastify';
import { WebSocketServer, type WebSocket } from 'ws';
import { ArmError } from '../api/arm-error.js';
import type { Caller } from '../api/caller.js';
import { DEFAULT_BODY_LIMIT } from '../api/route-spec.js';
import type { GoalStateWaiters } from '../extensions/goal-state-waiters.js';
import type { TokenAuthenticator } from '../identity/token-authenticator.js';
import { CREDENTIAL_CLAIM } from '../identity/access-token-issuer.js';
import { validMachineScope } from '../resources/arm-scope.js';
import {
  AgentChannelSession,
  DEFAULT_FRAME_RATE,
  type AgentChannelContext,
  type FrameRate,
} from './agent-channel-session.js';

const CHANNEL_PATH =
  /^\/subscriptions\/([^/?#%]+)\/resourceGroups\/([^/?#%]+)\/providers\/Microsoft\.HybridCompute\/machines\/([^/?#%]+)\/agentChannel\?api-version=([^&#%]*)$/;
/** What a frame adds to the heartbeat body it carries: `{"type":"heartbeat","id":N,"body":}`. */
const FRAME_ENVELOPE_BYTES = 64;
/**
 * A channel quiet this long is pinged, and dropped when it has still said nothing (no pong) by
 * the sweep after. Agents heartbeat every few minutes: an active channel is never pinged, and a
 * fleet's pings cost less than its heartbeats. Well within HAProxy's `timeout tunnel`.
 */
export const DEFAULT_PING_INTERVAL_MS = 120_000;
/** A closed channel whose peer does not answer the close is cut this long after. */
const CLOSE_WAIT_MS = 2_000;

export interface AgentChannelsOptions extends Omit<AgentChannelContext, 'rate' | 'log'> {
  log: FastifyBaseLogger;
  rate?: FrameRate | undefined;
  pingIntervalMs?: number | undefined;
  /** Load balancers whose X-Forwarded-For names the client, as the router believes them. */
  trustedProxies?: readonly string[] | undefined;
  /** Revocations: a channel whose principal or credential is named is checked again at once. */
  revocations?: Pick<TokenAuthenticator, 'onRevocation'> | undefined;
  /** The goal states announced over the channel, each by the changes it publishes. */
  notices?: Partial<Record<GoalStateNotice, Pick<GoalStateWaiters, 'listen'>>> | undefined;
}

interface OpenChannel {
  readonly session: AgentChannelSession;
  readonly principalId: string;
  readonly credentialId: string;
  /** Something (a frame, a pong) arrived since the last sweep. */
  alive: boolean;
  /** Pinged at the last sweep. */
  pinged: boolean;
  readonly expiry: NodeJS.Timeout;
  /** Ends its goal-state listening. */
  readonly unlisten: () => void;
}

export type Router = (request: IncomingMessage, response: ServerResponse) => void;

export class AgentChannels {
  /** Channels opened since the node started. */
  opened = 0;
  private readonly server: WebSocketServer;
  private readonly open = new Map<WebSocket, OpenChannel>();
  private readonly context: AgentChannelContext;
  private readonly pings: NodeJS.Timeout;
  private readonly trust: ((address: string, hop: number) => boolean) | undefined;
  private stopping = false;

  constructor(private readonly options: AgentChannelsOptions) {
    this.context = { ...options, rate: options.rate ?? DEFAULT_FRAME_RATE };
    this.server = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: (options.route.bodyLimit ?? DEFAULT_BODY_LIMIT) + FRAME_ENVELOPE_BYTES,
    });
    this.pings = setInterval(
      () => this.ping(),
      options.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS,
    ).unref();
    options.revocations?.onRevocation((kind, id) => this.revoked(kind, id));
    const proxies = options.trustedProxies;
    this.trust =
      proxies === undefined || proxies.length === 0 ? undefined : proxyAddr.compile([...proxies]);
  }

  /** Channels open now. */
  get size(): number {
    return this.open.size;
  }

  /** Whether no channel is storing a heartbeat. */
  get settled(): boolean {
    for (const { session } of this.open.values()) if (session.inFlight > 0) return false;
    return true;
  }

  /**
   * Takes an upgrade request of the HTTPS server: a channel when it is admitted; otherwise the
   * request is answered on its socket by `router` as any request is.
   */
  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer, router: Router): void {
    const refuse = (): void => answerAsRequest(request, socket, router);
    const match = request.method === 'GET' ? CHANNEL_PATH.exec(request.url ?? '') : null;
    if (match === null || request.headers.upgrade?.toLowerCase() !== 'websocket') {
      refuse();
      return;
    }
    if (this.stopping) {
      answerStopping(socket);
      return;
    }
    const { route, deps, available } = this.options;
    const authorization = request.headers.authorization;
    if (authorization === undefined || !available()) {
      refuse();
      return;
    }
    const [, subscription = '', group = '', machine = '', apiVersion = ''] = match;
    const scope = validMachineScope(subscription, group, machine);
    if (scope === undefined) {
      refuse();
      return;
    }
    const action = route.access.kind === 'action' ? route.access.action : undefined;
    const admit = (caller: Caller): void => {
      if (
        action === undefined ||
        route.apiVersions?.includes(apiVersion) !== true ||
        !deps.authorizer.isAllowed(caller.principalId, action, scope) ||
        this.stopping
      ) {
        refuse();
        return;
      }
      this.server.handleUpgrade(request, socket, head, (ws) =>
        this.accept(ws, request, caller, authorization, scope),
      );
    };
    const known = deps.authenticator.known?.(authorization);
    if (known !== undefined) admit(known);
    else
      deps.authenticator
        .authenticate(authorization)
        .then(admit, refuse)
        .catch(() => socket.destroy());
  }

  /** Answers an upgrade by `router` as an ordinary request: channels are not taken here. */
  refuse(request: IncomingMessage, socket: Duplex, router: Router): void {
    answerAsRequest(request, socket, router);
  }

  /**
   * Ends every channel with 1001 once the heartbeats it is storing are answered, and refuses new
   * ones: agents go on over a new connection, which the load balancer gives to another node.
   */
  stop(): void {
    this.stopping = true;
    clearInterval(this.pings);
    for (const { session } of this.open.values()) {
      session.stop(1001, 'the control-plane node is stopping; connect again');
    }
  }

  private accept(
    ws: WebSocket,
    request: IncomingMessage,
    caller: Caller,
    authorization: string,
    machineId: string,
  ): void {
    const log = this.options.log;
    // Read once: the upgrade request (its headers carry the token twice) is not kept for the
    // channel's life only to name its address.
    const address =
      this.trust === undefined
        ? (request.socket.remoteAddress ?? '')
        : (proxyAddr.all(request, this.trust).at(-1) ?? '');
    const clientIp = (): string => address;
    const session = new AgentChannelSession(
      this.context,
      {
        send: (text) => ws.send(text),
        close: (code, reason) => {
          ws.close(code, reason);
          setTimeout(() => ws.terminate(), CLOSE_WAIT_MS).unref();
        },
      },
      authorization,
      machineId,
      clientIp,
    );
    // The token's own end closes the channel: the agent opens the next with a new token.
    const expiresAt = Number(caller.claims['exp']) * 1000;
    const expiry = setTimeout(
      () =>
        session.close(
          AGENT_CHANNEL_CLOSE.tokenRefused,
          'the access token expired; open the channel again with a new one',
        ),
      Math.max(0, Math.min(expiresAt - this.options.clock.now(), 2 ** 31 - 1)),
    ).unref();
    const channel: OpenChannel = {
      session,
      principalId: caller.principalId.toLowerCase(),
      credentialId: String(caller.claims[CREDENTIAL_CLAIM]).toLowerCase(),
      alive: true,
      pinged: false,
      expiry,
      unlisten: this.listen(session, machineId),
    };
    this.open.set(ws, channel);
    this.opened++;
    ws.on('pong', () => (channel.alive = true));
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      channel.alive = true;
      if (isBinary) session.close(1003, 'frames are JSON text');
      else void session.receive(data.toString('utf8'));
    });
    // Oversized frames and protocol errors: ws closes the channel itself (1009, 1002…).
    ws.on('error', (error) => log.debug({ err: error, machineId }, 'agent channel error'));
    ws.once('close', (code: number) => {
      session.closedByPeer();
      channel.unlisten();
      clearTimeout(expiry);
      this.open.delete(ws);
      log.info({ machineId, code }, 'agent channel closed');
    });
    // One line each way per connection, where the POST writes one per heartbeat.
    log.info({ machineId, remoteAddress: clientIp() }, 'agent channel opened');
    if (this.stopping) session.stop(1001, 'the control-plane node is stopping; connect again');
  }

  /**
   * Says hello, naming the goal states announced here, and listens for their changes; the agent
   * fetches each once when a channel opens after none was, so the hello comes after listening.
   */
  private listen(session: AgentChannelSession, machineId: string): () => void {
    const notices = this.options.notices ?? {};
    const announced = GOAL_STATE_NOTICES.filter((service) => notices[service] !== undefined);
    const ends = announced.map((service) =>
      (notices[service] as Pick<GoalStateWaiters, 'listen'>).listen(machineId, () =>
        session.announce(service),
      ),
    );
    session.hello(announced);
    return () => {
      for (const end of ends) end();
    };
  }

  /** The channels of a revoked principal or credential check their token now, not at their next frame. */
  private revoked(kind: 'principal' | 'credential', id: string): void {
    const key = id.toLowerCase();
    for (const channel of this.open.values()) {
      if ((kind === 'principal' ? channel.principalId : channel.credentialId) === key)
        void channel.session.recheck();
    }
  }

  /** Cuts every channel still open: the node's shutdown cut-off. */
  terminate(): void {
    for (const ws of this.open.keys()) ws.terminate();
  }

  /** Quiet channels are pinged; those that did not answer the last ping are dropped. */
  private ping(): void {
    for (const [ws, channel] of this.open) {
      if (channel.alive) {
        channel.alive = false;
        channel.pinged = false;
      } else if (channel.pinged) {
        ws.terminate();
      } else {
        channel.pinged = true;
        ws.ping();
      }
    }
  }
}

/** The router answers a refused upgrade on its socket as an ordinary request, then ends it. */
function answerAsRequest(request: IncomingMessage, socket: Duplex, router: Router): void {
  const response = new ServerResponse(request);
  response.shouldKeepAlive = false;
  response.assignSocket(socket as Socket);
  response.once('finish', () => {
    response.detachSocket(socket as Socket);
    socket.end();
  });
  socket.once('error', () => socket.destroy());
  router(request, response);
}

function answerStopping(socket: Duplex): void {
  const body = JSON.stringify(
    new ArmError(
      'ServiceUnavailable',
      'This control-plane node is stopping; connect again and another node will take the channel.',
    ).toBody(),
  );
  socket.once('error', () => socket.destroy());
  socket.end(
    `HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=utf-8\r\nRetry-After: 1\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
