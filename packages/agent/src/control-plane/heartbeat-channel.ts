// Heartbeats over the agent channel (docs/agent-protocol.md): one WebSocket to the machine's
// `…/agentChannel`, opened with the machine token on the heartbeat's own way out (direct or
// through proxy.url, as its HTTPS calls), kept between heartbeats and opened again with the next
// token when the token changes. Whatever keeps a heartbeat from being answered on the channel
// (the upgrade refused by an older control plane or a proxy, the channel closed under it, no
// answer in time) sends that heartbeat with the POST instead, and the channel is tried again
// after a backoff with full jitter. An answer is read by the same function as the POST's.
//
// The other way, the control plane announces goal-state changes on the channel (a hello naming
// the goal states it announces, then a notice per change): they go to HIMDS's notice board, which
// the agent's services ask instead of holding long polls. While a channel announces, it is kept
// open: closed by the control plane (a node stopping, a token refused, the network lost) it is
// opened again after a short jittered delay, without waiting for the next heartbeat; a new token
// opens the new channel before the old one is closed, so no notice falls in between.
import {
  GOAL_STATE_NOTICES,
  type AckFrame,
  type AgentChannelServerFrame,
  type ErrorFrame,
  type HeartbeatFrame,
} from '@tether/protocol';
import type { Agent } from 'node:http';
import WebSocket from 'ws';
import type { Clock } from '../clock.js';
import { fullJitterDelay, type BackoffPolicy } from '../himds/backoff.js';
import type { GoalStateNotices } from '../himds/goal-state-notices.js';
import { agentFor, tunnelTlsOptions } from '../network/proxy-agent.js';
import type { ProxyRoute } from '../network/proxy-route.js';
import {
  agentChannelUrl,
  heartbeatAnswerOf,
  postHeartbeat,
  type HeartbeatAnswer,
  type MachineTarget,
} from './machine-api.js';

/** As long as an HTTPS call waits for its answer. */
const ANSWER_TIMEOUT_MS = 30_000;
/** The channel is tried again after at least this, doubling with each failure up to the cap. */
export const CHANNEL_RETRY: BackoffPolicy = { baseMs: 60_000, capMs: 30 * 60_000 };

/**
 * A channel that announced goal-state changes and was closed by the control plane is opened again
 * after `minMs` plus full jitter over the policy's window: 1–15 s after the first close, up to
 * 1–30 s while attempts keep failing, so a stopping node's machines come back spread out.
 */
export const NOTICE_REOPEN = { minMs: 1_000, policy: { baseMs: 7_000, capMs: 29_000 } } as const;

/** The channel could not answer this heartbeat; the POST can. */
class ChannelUnavailable extends Error {}

export interface HeartbeatChannelOptions {
  readonly clock: Clock;
  readonly random: () => number;
  readonly log: (line: string) => void;
  /** The POST, for a heartbeat the channel cannot carry. */
  readonly post?: typeof postHeartbeat;
  readonly retry?: BackoffPolicy;
  /** Where the goal-state notices read on the channel go; none: they are ignored. */
  readonly notices?: GoalStateNotices;
  /** The machine and the token to use now, to open the channel again without a heartbeat. */
  readonly current?: () => Promise<{ readonly target: MachineTarget; readonly token: string }>;
  readonly reopen?: { readonly minMs: number; readonly policy: BackoffPolicy };
}

interface Pending {
  resolve(answer: AckFrame | ErrorFrame): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

interface Open {
  readonly ws: WebSocket;
  readonly token: string;
  readonly url: string;
  /** The route it was opened on (direct, or which proxy), as JSON. */
  readonly way: string;
  readonly ready: Promise<void>;
  readonly pending: Map<number, Pending>;
  /** Closed from this side. */
  closing: boolean;
  /** Its hello announced at least one goal state. */
  announces: boolean;
}

export class HeartbeatChannel {
  /** Heartbeats answered over the channel and over the POST, for `azcmagent show` and tests. */
  readonly sent = { channel: 0, post: 0 };
  private open: Open | undefined;
  private nextId = 1;
  private failures = 0;
  private retryAt = 0;
  private stopped = false;
  /** A channel announced notices: keep one open. Off again when the control plane stops. */
  private keeping = false;
  private reopenFailures = 0;
  private reopenTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: HeartbeatChannelOptions) {}

  /** Same contract as postHeartbeat: the answer, or the error the POST's answer would give. */
  readonly heartbeat = async (
    target: MachineTarget,
    token: string,
    body: unknown,
  ): Promise<HeartbeatAnswer> => {
    let unavailable: ChannelUnavailable | undefined;
    if (this.options.clock.now() >= this.retryAt) {
      try {
        const frame = await this.send(target, token, body);
        this.failures = 0;
        this.sent.channel++;
        return heartbeatAnswerOf(
          frame.type === 'ack'
            ? { status: 200, body: frame.body as Record<string, unknown> }
            : {
                status: frame.status,
                body: { error: frame.error },
                headers:
                  typeof frame.retryAfter === 'string' ? { 'retry-after': frame.retryAfter } : {},
              },
        );
      } catch (error) {
        if (!(error instanceof ChannelUnavailable)) throw error;
        unavailable = error;
      }
    }
    // A POST that fails too says the control plane is away, not the channel: it is tried again
    // with the next heartbeat. One that is answered says the channel is what cannot be used.
    const answer = await (this.options.post ?? postHeartbeat)(target, token, body);
    this.sent.post++;
    if (unavailable !== undefined) {
      this.failures++;
      const wait = fullJitterDelay(
        this.failures,
        this.options.retry ?? CHANNEL_RETRY,
        this.options.random,
      );
      this.retryAt = this.options.clock.now() + wait;
      this.options.log(
        `agent channel unavailable (${unavailable.message}); heartbeats go by HTTPS POST, the channel is tried again in ${Math.round(wait / 1000)} s`,
      );
    }
    return answer;
  };

  /** Closes the channel (the service stopping). */
  close(): void {
    this.stopped = true;
    clearTimeout(this.reopenTimer);
    this.reopenTimer = undefined;
    this.drop(1000, 'the agent is stopping');
  }

  /** Whether goal-state changes come as notices now (for `azcmagent show`). */
  get announcing(): boolean {
    return this.open?.announces === true;
  }

  private async send(
    target: MachineTarget,
    token: string,
    body: unknown,
  ): Promise<AckFrame | ErrorFrame> {
    const url = agentChannelUrl(target);
    // The way out is read before every heartbeat, as before every HTTPS call: a channel opened
    // through another proxy (or none) is not the one to use now.
    const route = target.egress('Arc');
    const way = JSON.stringify(route);
    // A new token (renewed, or after a rotation) opens a new channel too; the old one ends once
    // the new one is open, so that notices keep coming the whole time.
    const previous = this.open;
    let replaced: string | undefined;
    if (
      previous !== undefined &&
      (previous.token !== token || previous.url !== url || previous.way !== way)
    ) {
      replaced = previous.way !== way ? 'another way out' : 'a new token';
      this.open = undefined;
    }
    const open = this.open ?? this.connect(route, way, target, url, token);
    try {
      await open.ready;
    } finally {
      if (replaced !== undefined && previous !== undefined) this.end(previous, 1000, replaced);
    }
    const id = this.nextId++;
    const frame: HeartbeatFrame = { type: 'heartbeat', id, body };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        open.pending.delete(id);
        reject(new ChannelUnavailable(`no answer within ${ANSWER_TIMEOUT_MS / 1000} s`));
        if (this.open === open) this.drop(1000, 'no answer in time');
      }, ANSWER_TIMEOUT_MS);
      open.pending.set(id, { resolve, reject, timer });
      open.ws.send(JSON.stringify(frame), (error) => {
        if (error === undefined || error === null) return;
        clearTimeout(timer);
        open.pending.delete(id);
        reject(new ChannelUnavailable(error.message));
      });
    });
  }

  private connect(
    route: ProxyRoute,
    way: string,
    target: MachineTarget,
    url: string,
    token: string,
  ): Open {
    const agent = agentFor(route, true);
    const ws = new WebSocket(url, {
      headers: { authorization: `Bearer ${token}` },
      ...(target.ca === undefined ? {} : { ca: target.ca }),
      ...(agent === false || agent === undefined ? {} : { agent: agent as Agent }),
      ...tunnelTlsOptions(route, new URL(url.replace(/^wss:/, 'https:'))),
      perMessageDeflate: false,
      handshakeTimeout: ANSWER_TIMEOUT_MS,
      followRedirects: false,
    });
    const pending = new Map<number, Pending>();
    const ready = new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_request, response) => {
        reject(new ChannelUnavailable(`the upgrade was answered ${response.statusCode ?? '?'}`));
        response.resume();
        ws.terminate();
      });
      ws.once('error', (error) => reject(new ChannelUnavailable(error.message)));
      ws.once('close', () => reject(new ChannelUnavailable('closed before it opened')));
    });
    // Awaited by send(); an unhandled rejection here would end the process.
    ready.catch(() => undefined);
    const open: Open = { ws, token, url, way, ready, pending, closing: false, announces: false };
    ws.on('error', () => undefined);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const frame = isBinary ? undefined : parseFrame(data.toString('utf8'));
      if (frame?.type === 'hello') {
        this.options.notices?.hello(open, frame.notices);
        open.announces = this.options.notices !== undefined && frame.notices.length > 0;
        if (open.announces && this.options.current !== undefined) {
          this.keeping = true;
          this.reopenFailures = 0;
        }
        return;
      }
      if (frame?.type === 'goalStateChanged') {
        this.options.notices?.changed(open, frame.service);
        return;
      }
      const waiting = frame?.id === null ? undefined : pending.get(frame?.id ?? -1);
      if (frame === undefined || waiting === undefined) return;
      pending.delete(frame.id ?? -1);
      clearTimeout(waiting.timer);
      waiting.resolve(frame);
    });
    ws.once('close', (code: number, reason: Buffer) => {
      if (this.open === open) this.open = undefined;
      this.options.notices?.closed(open);
      const why = `the channel closed (${code}${reason.length > 0 ? ` ${reason.toString('utf8')}` : ''})`;
      for (const waiting of pending.values()) {
        clearTimeout(waiting.timer);
        waiting.reject(new ChannelUnavailable(why));
      }
      pending.clear();
      if (open.closing) return;
      // Closed by the control plane (a stopping node's 1001, an expired token's 4401…): a new one
      // goes through the load balancer to another node or with a new token — soon while notices
      // come over it, else with the next heartbeat.
      if (open.announces && this.keeping && this.open === undefined) {
        this.options.log(`${why}; goal-state notices need it, so another is opened soon`);
        this.scheduleReopen();
      } else {
        this.options.log(`${why}; the next heartbeat opens another`);
      }
    });
    this.open = open;
    return open;
  }

  private scheduleReopen(): void {
    if (this.stopped || !this.keeping || this.reopenTimer !== undefined) return;
    this.reopenFailures++;
    const { minMs, policy } = this.options.reopen ?? NOTICE_REOPEN;
    const wait = minMs + fullJitterDelay(this.reopenFailures, policy, this.options.random);
    this.reopenTimer = setTimeout(() => void this.reopen(), wait);
  }

  private async reopen(): Promise<void> {
    this.reopenTimer = undefined;
    const current = this.options.current;
    // A heartbeat may have opened one meanwhile.
    if (this.stopped || current === undefined || this.open !== undefined) return;
    try {
      const { target, token } = await current();
      if (this.stopped || this.open !== undefined) return;
      const url = agentChannelUrl(target);
      const route = target.egress('Arc');
      await this.connect(route, JSON.stringify(route), target, url, token).ready;
    } catch (error) {
      const refused = /the upgrade was answered (\d+)/.exec((error as Error).message)?.[1];
      // A control plane that no longer has the channel (an older node, --no-agent-channel): the
      // services go back to their long polls; the heartbeats keep trying it after their backoff.
      if (
        refused !== undefined &&
        !['401', '408', '429'].includes(refused) &&
        !refused.startsWith('5')
      ) {
        this.keeping = false;
        this.options.log(
          `the agent channel cannot be opened again (${(error as Error).message}); goal-state changes come by long poll`,
        );
        return;
      }
      this.options.log(
        `cannot open the agent channel again: ${(error as Error).message}; trying again soon`,
      );
      this.scheduleReopen();
    }
  }

  private drop(code: number, reason: string): void {
    const open = this.open;
    if (open === undefined) return;
    this.open = undefined;
    this.end(open, code, reason);
  }

  private end(open: Open, code: number, reason: string): void {
    open.closing = true;
    if (open.ws.readyState === WebSocket.OPEN) open.ws.close(code, reason);
    else open.ws.terminate();
  }
}

function parseFrame(text: string): AgentChannelServerFrame | undefined {
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (frame === null || typeof frame !== 'object') return undefined;
  const { type, id, status, error, notices, service } = frame as Record<string, unknown>;
  if (type === 'hello' && Array.isArray(notices))
    return { type, notices: GOAL_STATE_NOTICES.filter((known) => notices.includes(known)) };
  if (type === 'goalStateChanged')
    return GOAL_STATE_NOTICES.find((known) => known === service) === undefined
      ? undefined
      : { type, service: service as (typeof GOAL_STATE_NOTICES)[number] };
  if (type === 'ack' && typeof id === 'number') return frame as AckFrame;
  if (type === 'error' && typeof status === 'number' && typeof error === 'object' && error !== null)
    return frame as ErrorFrame;
  return undefined;
}
