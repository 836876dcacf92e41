// A goal-state source driven by the agent channel's notices (docs/agent-protocol.md): while HIMDS
// says the control plane announces this goal state's changes, the service waits on HIMDS (local,
// cheap) and fetches the goal state from the control plane — without `after`, so it is answered
// at once — only when HIMDS's sequence moves. When it is not announced, or HIMDS cannot be asked
// (stopped, an older HIMDS answering 404, too many asks held), the service long-polls the control
// plane as before and asks HIMDS again after each answer. HIMDS relays only a counter: the goal
// state is still fetched and verified over the service's own TLS with its own credential.
import { request } from 'node:http';
import type { Socket } from 'node:net';
import type { GoalStateNotice } from '@tether/protocol';
import {
  GOAL_STATE_NOTICES_PATH,
  MAX_NOTICE_WAIT_SECONDS,
  type NoticeState,
} from '../../himds/goal-state-notices.js';
import { loopbackPeerUid } from '../../himds/loopback-peer.linux.js';
import type { GoalStateSource } from './goal-state-poller.js';

/** HIMDS's notice counters, as a service asks for them. */
export interface NoticeBoardClient {
  /** Throws when HIMDS cannot be asked or answers anything but the counters. */
  wait(
    service: GoalStateNotice,
    after: number | undefined,
    waitSeconds: number,
    signal?: AbortSignal,
  ): Promise<NoticeState>;
}

/** How goal-state changes reach the service now (`azcmagent show`). */
export type GoalStateChanges = 'notice' | 'long poll';

/** An ask held this long past its wait without an answer is given up: HIMDS is stuck. */
const ANSWER_GRACE_MS = 30_000;
/**
 * While on notices, the goal state is fetched anyway once it is this old (75–125 %, jittered):
 * a notice lost or withheld — by a fault, or by whoever holds HIMDS's account or its port —
 * delays a change by at most this, never forever. An hour keeps a fleet's extra fetches far
 * below what its long polls cost.
 */
export const NOTICE_REFETCH_MS = 60 * 60_000;

/** An ask answered sooner than this with nothing new waits out the rest before the next. */
const MIN_ASK_INTERVAL_MS = 1_000;

/**
 * GET /agent/goalStateNotices on HIMDS at 127.0.0.1:`port`, directly (never through a proxy).
 * Believed only from a socket the HIMDS account (or root) owns, as the kernel's socket table
 * says: another local account listening on the port while HIMDS is stopped is not asked.
 */
export class HimdsNoticeClient implements NoticeBoardClient {
  /** Connections whose other end was checked: a kept-alive one is not looked up again. */
  private readonly checked = new WeakSet<Socket>();

  constructor(
    private readonly port: number,
    private readonly himdsUid: number,
    private readonly socketOwner: (
      serverPort: number,
      clientPort: number,
    ) => number | undefined = loopbackPeerUid,
  ) {}

  wait(
    service: GoalStateNotice,
    after: number | undefined,
    waitSeconds: number,
    signal?: AbortSignal,
  ): Promise<NoticeState> {
    const query = new URLSearchParams({ service, wait: String(waitSeconds) });
    if (after !== undefined) query.set('after', String(after));
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: this.port,
          method: 'GET',
          path: `${GOAL_STATE_NOTICES_PATH}?${query.toString()}`,
          headers: { metadata: 'true' },
          timeout: waitSeconds * 1000 + ANSWER_GRACE_MS,
          ...(signal === undefined ? {} : { signal }),
        },
        (res) => {
          // The other end of this connection: its local port is HIMDS's, its peer ours.
          const { socket } = req;
          const owner =
            socket !== null && this.checked.has(socket)
              ? this.himdsUid
              : this.socketOwner(this.port, socket?.localPort ?? 0);
          if (owner === this.himdsUid || owner === 0) {
            if (socket !== null) this.checked.add(socket);
          } else {
            res.destroy(
              new Error(
                `port ${this.port} is held by ${owner === undefined ? 'an unknown account' : `uid ${owner}`}, not HIMDS's account (uid ${this.himdsUid})`,
              ),
            );
            return;
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > 4096) res.destroy(new Error('HIMDS answered more than counters'));
            else chunks.push(chunk);
          });
          res.on('error', reject);
          res.on('end', () => {
            if (res.statusCode !== 200) {
              reject(new Error(`HIMDS answered ${res.statusCode ?? '?'}`));
              return;
            }
            const state = noticeStateOf(Buffer.concat(chunks).toString('utf8'));
            if (state === undefined) reject(new Error('HIMDS answered something else'));
            else resolve(state);
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('HIMDS did not answer in time')));
      req.on('error', reject);
      req.end();
    });
  }
}

function noticeStateOf(text: string): NoticeState | undefined {
  try {
    const { announced, sequence } = JSON.parse(text) as Record<string, unknown>;
    return typeof announced === 'boolean' && Number.isSafeInteger(sequence) && Number(sequence) >= 0
      ? { announced, sequence: sequence as number }
      : undefined;
  } catch {
    return undefined;
  }
}

export interface NoticeDrivenSourceOptions<S extends { readonly generation: number }> {
  /** The control plane's goal state: answers at once without `after`, else long-polls. */
  readonly api: GoalStateSource<S>;
  readonly notices: NoticeBoardClient;
  readonly service: GoalStateNotice;
  readonly log: (line: string) => void;
  /** How long one ask is held at HIMDS. */
  readonly waitSeconds?: number;
  /** Told each time the way changes. */
  readonly onChanges?: (changes: GoalStateChanges) => void;
  /** NOTICE_REFETCH_MS unless a test says. */
  readonly refetchMs?: number;
  readonly random?: () => number;
}

export class NoticeDrivenSource<
  S extends { readonly generation: number },
> implements GoalStateSource<S> {
  /** HIMDS's sequence when the goal state last fetched was asked for; undefined: none known. */
  private sequence: number | undefined;
  private way: GoalStateChanges | undefined;
  /** When the goal state is fetched even without a notice. */
  private refetchAt = Number.POSITIVE_INFINITY;

  constructor(private readonly options: NoticeDrivenSourceOptions<S>) {}

  /** How goal-state changes reach the service now; undefined before the first ask. */
  get changes(): GoalStateChanges | undefined {
    return this.way;
  }

  async goalState(after: number | undefined, signal?: AbortSignal): Promise<S> {
    const { api } = this.options;
    if (after === undefined) {
      // Always fetched at start; the sequence read first, so a change during the fetch is seen.
      const seen = await this.ask(undefined, 0, signal);
      if (seen?.announced === true) this.use('notice');
      else if (seen !== undefined) this.use('long poll', 'the agent channel does not announce it');
      const state = await api.goalState(undefined, signal);
      this.fetched();
      this.sequence = seen?.sequence;
      return state;
    }
    const waitSeconds = Math.min(
      MAX_NOTICE_WAIT_SECONDS,
      this.options.waitSeconds ?? MAX_NOTICE_WAIT_SECONDS,
    );
    for (;;) {
      const askedAt = Date.now();
      const dueSeconds = Math.max(1, Math.ceil((this.refetchAt - askedAt) / 1000));
      const seen = await this.ask(this.sequence, Math.min(waitSeconds, dueSeconds), signal);
      if (seen === undefined || !seen.announced) {
        if (seen !== undefined) this.use('long poll', 'the agent channel does not announce it');
        const state = await api.goalState(after, signal);
        this.fetched();
        this.sequence = seen?.sequence;
        return state;
      }
      this.use('notice');
      if (seen.sequence !== this.sequence || Date.now() >= this.refetchAt) {
        // Committed only once fetched: a fetch that fails is tried again on the same notice.
        const state = await api.goalState(undefined, signal);
        this.fetched();
        this.sequence = seen.sequence;
        return state;
      }
      const early = MIN_ASK_INTERVAL_MS - (Date.now() - askedAt);
      if (early > 0) await pause(early, signal);
    }
  }

  private fetched(): void {
    const every = this.options.refetchMs ?? NOTICE_REFETCH_MS;
    this.refetchAt = Date.now() + every * (0.75 + (this.options.random ?? Math.random)() / 2);
  }

  /** HIMDS's answer, or undefined (said once) when it cannot be asked. */
  private async ask(
    after: number | undefined,
    waitSeconds: number,
    signal: AbortSignal | undefined,
  ): Promise<NoticeState | undefined> {
    try {
      return await this.options.notices.wait(this.options.service, after, waitSeconds, signal);
    } catch (error) {
      if (signal?.aborted === true) throw error;
      this.use('long poll', `HIMDS cannot be asked: ${(error as Error).message}`);
      return undefined;
    }
  }

  private use(way: GoalStateChanges, why?: string): void {
    if (way === this.way) return;
    this.way = way;
    this.options.log(
      way === 'notice'
        ? 'goal-state changes come as notices over the agent channel (through HIMDS); no long poll is held'
        : `goal-state changes come by long poll (${why ?? ''})`,
    );
    this.options.onChanges?.(way);
  }
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      if (signal?.aborted === true) reject(new Error('stopped'));
      else resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
