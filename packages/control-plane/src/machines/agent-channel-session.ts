// One machine's agent channel once it is open: each heartbeat frame is checked as the HTTP
// heartbeat is checked per request (node available, token still accepted, the action still
// allowed at the machine), stored by the same HeartbeatService and answered with the same body
// or error. A refused token or action ends the channel; so does a frame that cannot be read or
// a rate no agent sends. The transport (a WebSocket) is the caller's: this sees text only.
import type { AgentChannelServerFrame, GoalStateNotice } from '@tether/protocol';
import { AGENT_CHANNEL_CLOSE } from '@tether/protocol';
import secureJson from 'secure-json-parse';
import { errorAnswer, storeUnavailable } from '../api/build-app.js';
import type { Caller } from '../api/caller.js';
import {
  authorizationFailed,
  checkBodyDepth,
  correlationIdOf,
  logFailure,
  logRefusal,
  type Admission,
  type RouteDependencies,
  type RouteSpec,
} from '../api/route-spec.js';
import { ArmError } from '../api/arm-error.js';
import type { Clock } from '../clock.js';
import { PARSE_OPTIONS, parseFrameBody, splitHeartbeatFrame } from './heartbeat-frame.js';
import type { HeartbeatService, ReadHeartbeat } from './heartbeat-service.js';

/** A close reason is at most 123 bytes. */
const MAX_REASON_BYTES = 123;

export interface FrameRate {
  /** Frames a channel may send at once after a quiet spell. */
  readonly burst: number;
  /** Frames per second it may keep sending. */
  readonly perSecond: number;
}

/**
 * An agent sends one heartbeat every few minutes, a few more when its configuration changes and
 * a quick run of them while it catches up on up to 10,000 unreported local changes (25 a frame,
 * each sent once the last was answered); a channel past this is not an agent.
 */
export const DEFAULT_FRAME_RATE: FrameRate = { burst: 600, perSecond: 20 };

export interface ChannelTransport {
  send(text: string): void;
  close(code: number, reason: string): void;
}

export interface AgentChannelContext {
  route: RouteSpec;
  service: HeartbeatService;
  deps: RouteDependencies;
  available: () => boolean;
  clock: Clock;
  log: Parameters<typeof errorAnswer>[1];
  rate: FrameRate;
}

export class AgentChannelSession {
  /** Heartbeats being stored now: a stopping node keeps its store open until they are done. */
  inFlight = 0;
  private closed = false;
  private stopping: { code: number; reason: string } | undefined;
  private tokens: number;
  private refilledAt: number;
  /**
   * The body text of the last heartbeat stored and how it read: the same text again (an agent
   * whose report did not change) is not read again. Bodies with local changes are not kept.
   */
  private last: { text: string; read: ReadHeartbeat } | undefined;
  /**
   * The authorization engine's version when it last allowed this channel's heartbeats: the
   * caller, action and machine never change on a channel, so the answer holds until it moves.
   */
  private allowedAt: number | undefined;

  constructor(
    private readonly context: AgentChannelContext,
    private readonly transport: ChannelTransport,
    /** The channel's `Authorization` header, checked again for every frame. */
    private readonly authorization: string,
    /** The machine's resource id: the scope of the heartbeat action. */
    private readonly machineId: string,
    private readonly clientIp: () => string,
  ) {
    this.tokens = context.rate.burst;
    this.refilledAt = context.clock.now();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.transport.close(code, truncateReason(reason));
  }

  /**
   * Takes no more frames and closes once the heartbeats being stored are answered: an agent
   * never loses an answer the node had already decided.
   */
  stop(code: number, reason: string): void {
    this.stopping = { code, reason };
    this.closeIfStopped();
  }

  private closeIfStopped(): void {
    if (this.inFlight === 0 && this.stopping !== undefined)
      this.close(this.stopping.code, this.stopping.reason);
  }

  /** Tells the agent what this channel announces: its first frame. */
  hello(notices: readonly GoalStateNotice[]): void {
    this.send({ type: 'hello', notices });
  }

  /** Tells the agent that its goal state for `service` changed; nothing once the channel ends. */
  announce(service: GoalStateNotice): void {
    if (this.stopping === undefined) this.send({ type: 'goalStateChanged', service });
  }

  /** The transport closed from the other side. */
  closedByPeer(): void {
    this.closed = true;
  }

  async receive(text: string): Promise<void> {
    if (this.closed || this.stopping !== undefined) return;
    if (!this.takeFrame()) {
      this.close(
        1008,
        `more than ${this.context.rate.perSecond} heartbeats a second: this channel is closed`,
      );
      return;
    }
    const read = this.readFrame(text);
    if (read === undefined) return;
    this.inFlight++;
    try {
      await this.heartbeat(read);
    } finally {
      this.inFlight--;
      this.closeIfStopped();
    }
  }

  /**
   * A heartbeat frame's id and body (or, for the last body again, its reading); undefined when
   * the frame was refused.
   */
  private readFrame(text: string): FrameRead | undefined {
    const split = splitHeartbeatFrame(text);
    if (split !== undefined) {
      const last = this.last;
      if (last !== undefined && last.text === split.body) return { id: split.id, read: last.read };
      const body = parseFrameBody(split.body);
      if (body !== undefined) return { id: split.id, body: body.value, text: split.body };
    }
    let frame: unknown;
    try {
      frame = secureJson.parse(text, undefined, PARSE_OPTIONS);
    } catch {
      this.refuseFrame(null, 'The frame is not valid JSON.');
      return undefined;
    }
    const envelope = frame as { type?: unknown; id?: unknown; body?: unknown } | null;
    const id =
      typeof envelope?.id === 'number' && Number.isSafeInteger(envelope.id) && envelope.id >= 0
        ? envelope.id
        : null;
    if (typeof frame !== 'object' || frame === null || Array.isArray(frame) || id === null) {
      this.refuseFrame(null, "A frame is a JSON object with a non-negative integer 'id'.");
      return undefined;
    }
    if (envelope?.type !== 'heartbeat' || !('body' in frame)) {
      this.refuseFrame(id, "This channel takes frames {type: 'heartbeat', id, body} only.");
      return undefined;
    }
    return { id, body: envelope.body };
  }

  private async heartbeat(frame: FrameRead): Promise<void> {
    const { id } = frame;
    const { deps, route, service, available } = this.context;
    // Made only when an answer or a record needs it: most frames are acked without one.
    let made: string | undefined;
    const correlationId = (): string => (made ??= correlationIdOf({ headers: {} }));
    // As the router's hook: a node that cannot serve says so before it checks anything.
    if (!available()) {
      this.answerError(id, storeUnavailable(), correlationId());
      return;
    }
    let caller: Caller;
    try {
      caller =
        deps.authenticator.known?.(this.authorization) ??
        (await deps.authenticator.authenticate(this.authorization));
    } catch (error) {
      const answer = this.answerError(id, error, correlationId());
      if (answer.status === 401) this.close(AGENT_CHANNEL_CLOSE.tokenRefused, answer.message);
      return;
    }
    const action = route.access.kind === 'action' ? route.access.action : '';
    const admission = (): Admission => ({
      correlationId: correlationId(),
      caller,
      resourceId: this.machineId,
      operationName: route.operationName ?? action,
    });
    if (!this.allowed(caller, action)) {
      const refusal = authorizationFailed(caller, action, this.machineId);
      try {
        await logRefusal(deps, route, this.clientIp(), admission(), action, this.machineId);
        this.answerError(id, refusal, correlationId());
      } catch (error) {
        this.answerError(id, error, correlationId());
      }
      this.close(AGENT_CHANNEL_CLOSE.forbidden, refusal.message);
      return;
    }
    try {
      const read = frame.read ?? this.readBody(frame);
      const answer = await service.store(
        { machineId: this.machineId, caller, correlationId, clientIp: this.clientIp },
        read,
      );
      this.send({ type: 'ack', id, status: 200, body: answer });
    } catch (error) {
      // As the HTTP path: a failure that cannot be logged is answered as that failure.
      let failure = error;
      try {
        await logFailure(deps, route, admission(), this.clientIp(), error);
      } catch (logError) {
        failure = logError;
      }
      this.answerError(id, failure, correlationId());
    }
  }

  private allowed(caller: Caller, action: string): boolean {
    const { authorizer } = this.context.deps;
    const version = authorizer.version;
    if (version !== undefined && version === this.allowedAt) return true;
    this.allowedAt = undefined;
    if (!authorizer.isAllowed(caller.principalId, action, this.machineId)) return false;
    this.allowedAt = version;
    return true;
  }

  /** Reads a body not read before; one without local changes is kept for the next frame. */
  private readBody(frame: FrameRead): ReadHeartbeat {
    checkBodyDepth(frame.body);
    const read = this.context.service.read(frame.body);
    this.last =
      frame.text === undefined || read.localChanges.changes.length > 0
        ? undefined
        : { text: frame.text, read };
    return read;
  }

  /**
   * The token checked again outside any frame (its principal or credential was revoked): a
   * refused one closes the channel as a refused frame would.
   */
  async recheck(): Promise<void> {
    if (this.closed) return;
    const { authenticator } = this.context.deps;
    if (authenticator.known?.(this.authorization) !== undefined) return;
    try {
      await authenticator.authenticate(this.authorization);
    } catch (error) {
      const answer = errorAnswer(error, this.context.log, correlationIdOf({ headers: {} }));
      if (answer.status === 401)
        this.close(AGENT_CHANNEL_CLOSE.tokenRefused, answer.body.error.message);
    }
  }

  /** A frame that is not a heartbeat: answered 400, and the channel is closed (1008). */
  private refuseFrame(id: number | null, message: string): void {
    const error = new ArmError('InvalidRequestContent', message);
    this.send({ type: 'error', id, status: error.status, error: error.toBody().error });
    this.close(1008, message);
  }

  private answerError(
    id: number,
    error: unknown,
    correlationId: string,
  ): { status: number; message: string } {
    const answer = errorAnswer(error, this.context.log, correlationId);
    const retryAfter = answer.headers['retry-after'];
    this.send({
      type: 'error',
      id,
      status: answer.status,
      error: answer.body.error,
      ...(retryAfter === undefined ? {} : { retryAfter }),
    });
    return { status: answer.status, message: answer.body.error.message };
  }

  private send(frame: AgentChannelServerFrame): void {
    if (!this.closed) this.transport.send(JSON.stringify(frame));
  }

  /** A token bucket: `burst` frames, refilled at `perSecond`. */
  private takeFrame(): boolean {
    const { burst, perSecond } = this.context.rate;
    const now = this.context.clock.now();
    this.tokens = Math.min(burst, this.tokens + ((now - this.refilledAt) / 1000) * perSecond);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

interface FrameRead {
  readonly id: number;
  /** The body as parsed, when `read` is not given. */
  readonly body?: unknown;
  /** Its text, when the frame was split (splitHeartbeatFrame). */
  readonly text?: string;
  /** The body's reading, when it is the last body again. */
  readonly read?: ReadHeartbeat;
}

function truncateReason(reason: string): string {
  if (Buffer.byteLength(reason) <= MAX_REASON_BYTES) return reason;
  let text = reason;
  while (Buffer.byteLength(text) > MAX_REASON_BYTES - 3) text = text.slice(0, -1);
  return `${text}…`;
}
