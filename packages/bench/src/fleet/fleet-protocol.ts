// What the fleet simulator's coordinator and its worker processes say to each other over IPC.
import type { Endpoint } from './raw-connection.js';

/** One simulated machine, onboarded through the API; its private key travels as PKCS#8 PEM. */
export interface SimulatedMachine {
  readonly name: string;
  /** `/subscriptions/…/machines/{name}`. */
  readonly path: string;
  readonly principalId: string;
  readonly kid: string;
  readonly keyPem: string;
}

export interface WorkerSetup {
  readonly nodes: readonly Endpoint[];
  readonly ca: string;
  readonly tenantId: string;
  /** The public URL every node shares: the token endpoint's audience and the token scope. */
  readonly publicUrl: string;
  readonly machines: readonly SimulatedMachine[];
  /** Index of the worker among all, which spreads machines over nodes. */
  readonly workerIndex: number;
  readonly longPoll: boolean;
  readonly pollWaitSeconds: number;
  /** Keep-alive connections per node for heartbeats and token requests. */
  readonly sharedConnections: number;
  /**
   * Heartbeats as frames over each machine's agent channel (a WebSocket opened at its first
   * heartbeat, as the agent does), rather than POSTs over the shared connections.
   */
  readonly channel: boolean;
  /**
   * Each machine opens its agent channel as it starts, and fetches its extension goal state
   * once then and again whenever the channel says it changed, holding no long poll: what agents
   * do when the control plane announces changes. Heartbeats go over the channel.
   */
  readonly notices: boolean;
  /** Local addresses (127.0.0.x) the long polls are spread over, so ephemeral ports last. */
  readonly sourceAddresses: readonly string[];
  /**
   * This worker's share of the fleet's start rate (token requests and polls on a new
   * connection per second, adapting to the node's answers); 0: as fast as they go.
   */
  readonly connectsPerSecond: number;
  /**
   * Milliseconds the worker may take to connect its machines before it answers `ready` with
   * `partial` and goes on connecting the rest; 0: until all are connected.
   */
  readonly startWithinMs: number;
  /** Each machine gets its token and arms its poll before the next starts (not all tokens first). */
  readonly machineByMachine: boolean;
}

export type ToWorker =
  | { type: 'setup'; setup: WorkerSetup }
  /** Heartbeats every `intervalMs` from each machine, phases spread evenly; 0 stops them. */
  | { type: 'heartbeats'; intervalMs: number }
  | { type: 'stats'; reset: boolean }
  | { type: 'stop' };

/** A request answered 2xx: what the fault suite reads back afterwards. */
export interface Acknowledged {
  /** Latest acknowledged heartbeat per machine: when it was sent (ms since the epoch). */
  readonly heartbeats: Record<string, number>;
}

export interface WorkerStats {
  readonly heartbeatsOk: number;
  /** Heartbeats answered something else, or not at all, by status (0: connection lost). */
  readonly heartbeatFailures: Record<string, number>;
  /** The first few answers that were not 2xx: `status body`. */
  readonly failureSamples: string[];
  /** Retry-After values seen on 503 answers. */
  readonly retryAfter: string[];
  /** Milliseconds, heartbeats answered 2xx since the last reset. */
  readonly heartbeatLatencies: number[];
  /** Machines waiting for a change to their goal state right now (a held long poll, or an open channel that announces it), by node index. */
  readonly pollsHeld: number[];
  /** Long-poll answers (the wait ran out, or a change), or goal states fetched on a notice, since the last reset. */
  readonly pollAnswers: number;
  readonly pollFailures: Record<string, number>;
  /** Starts (token requests, first polls) answered 503 busy, each waited out as it asked. */
  readonly busyAnswers: number;
  /**
   * Each machine's way back after losing its node: when the loss was seen and when it was
   * served 2xx again by another node (ms since the epoch).
   */
  readonly reconnects: { lostAt: number; backAt: number; from: number; to: number }[];
  readonly acknowledged: Acknowledged;
  /** Per machine, the extensions whose operation its latest goal state carried. */
  readonly operations: Record<string, string[]>;
  /**
   * Per machine and extension, when a goal state first carried that extension's operation
   * (ms since the epoch): when the change reached the agent.
   */
  readonly deliveries: Record<string, Record<string, number>>;
}

export type FromWorker =
  /** `partial`: the time allowed ran out first; the rest are still connecting. */
  | { type: 'ready'; tokenMs: number; armMs: number; partial: boolean }
  | { type: 'stats'; stats: WorkerStats }
  | { type: 'error'; message: string };
