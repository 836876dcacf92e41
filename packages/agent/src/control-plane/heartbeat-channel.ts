// Heartbeats over the agent channel (docs/agent-protocol.md): one WebSocket to the machine's
// `…/agentChannel`, opened with the machine token on the heartbeat's own way out (direct or
// through proxy.url, as its HTTPS calls), kept between heartbeats and opened again with the next
// token when the token changes. Whatever keeps a heartbeat from being answered on the channel
// (the upgrade refused by an older control plane or a proxy, the channel closed under it, no
// answer in time) sends that heartbeat with the POST instead, and the channel is tried again
// after a backoff with full jitter. An answer is read by the same function as the POST's.
import type { AckFrame, ErrorFrame, HeartbeatFrame } from '@tether/protocol';
import type { Agent } from 'node:http';
import WebSocket from 'ws';
import type { Clock } from '../clock.js';
import { fullJitterDelay, type BackoffPolicy } from '../himds/backoff.js';
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

/** The channel could not answer this heartbeat; the POST can. */
class ChannelUnavailable extends Error {}

export interface HeartbeatChannelOptions {
  readonly clock: Clock;
  readonly random: () => number;
  readonly log: (line: string) => void;
  /** The POST, for a heartbeat the channel cannot carry. */
  readonly post?: typeof postHeartbeat;
  readonly retry?: BackoffPolicy;
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
}

export class HeartbeatChannel {
  /** Heartbeats answered over the channel and over the POST, for `azcmagent show` and tests. */
  readonly sent = { channel: 0, post: 0 };
  private open: Open | undefined;
  private nextId = 1;
  private failures = 0;
  private retryAt = 0;

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
    this.drop(1000, 'the agent is stopping');
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
    // A new token (renewed, or after a rotation) opens a new channel too; the old one ends.
    if (
      this.open !== undefined &&
      (this.open.token !== token || this.open.url !== url || this.open.way !== way)
    ) {
      this.drop(1000, this.open.way !== way ? 'another way out' : 'a new token');
    }
    const open = this.open ?? this.connect(route, way, target, url, token);
    await open.ready;
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
    const open: Open = { ws, token, url, way, ready, pending, closing: false };
    ws.on('error', () => undefined);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const frame = isBinary ? undefined : parseAnswer(data.toString('utf8'));
      const waiting = frame?.id === null ? undefined : pending.get(frame?.id ?? -1);
      if (frame === undefined || waiting === undefined) return;
      pending.delete(frame.id ?? -1);
      clearTimeout(waiting.timer);
      waiting.resolve(frame);
    });
    ws.once('close', (code: number, reason: Buffer) => {
      if (this.open === open) this.open = undefined;
      const why = `the channel closed (${code}${reason.length > 0 ? ` ${reason.toString('utf8')}` : ''})`;
      for (const waiting of pending.values()) {
        clearTimeout(waiting.timer);
        waiting.reject(new ChannelUnavailable(why));
      }
      pending.clear();
      // Closed by the control plane (a stopping node's 1001, an expired token's 4401…): the next
      // heartbeat opens a new one, through the load balancer to another node or with a new token.
      if (!open.closing) this.options.log(`${why}; the next heartbeat opens another`);
    });
    this.open = open;
    return open;
  }

  private drop(code: number, reason: string): void {
    const open = this.open;
    if (open === undefined) return;
    this.open = undefined;
    open.closing = true;
    if (open.ws.readyState === WebSocket.OPEN) open.ws.close(code, reason);
    else open.ws.terminate();
  }
}

function parseAnswer(text: string): AckFrame | ErrorFrame | undefined {
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (frame === null || typeof frame !== 'object') return undefined;
  const { type, id, status, error } = frame as Record<string, unknown>;
  if (type === 'ack' && typeof id === 'number') return frame as AckFrame;
  if (type === 'error' && typeof status === 'number' && typeof error === 'object' && error !== null)
    return frame as ErrorFrame;
  return undefined;
}
