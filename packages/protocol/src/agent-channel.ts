// The agent channel: one long-lived WebSocket per machine, opened at the machine's own
// `…/machines/{m}/agentChannel?api-version=…` with its bearer token, that carries heartbeats as
// small JSON text frames and answers each once it is stored; the other way, the control plane
// says when one of the machine's goal states changed, so the agent fetches it then instead of
// holding a long poll for it.

/** The last path segment of the channel's URL, after the machine's resource id. */
export const AGENT_CHANNEL_SEGMENT = 'agentChannel';

/** A heartbeat: `body` is what the HTTP POST …/heartbeat sends. */
export interface HeartbeatFrame {
  readonly type: 'heartbeat';
  /** Chosen by the agent, echoed in the answer: a non-negative safe integer. */
  readonly id: number;
  readonly body: unknown;
}

/** The heartbeat was stored: `body` is what the HTTP POST answers with 200. */
export interface AckFrame {
  readonly type: 'ack';
  readonly id: number;
  readonly status: 200;
  readonly body: unknown;
}

/** The heartbeat was refused or failed: what the HTTP POST answers, its status and ARM error. */
export interface ErrorFrame {
  readonly type: 'error';
  /** Null when the frame answered could not be read far enough to know its id. */
  readonly id: number | null;
  readonly status: number;
  readonly error: { readonly code: string; readonly message: string; readonly target?: string };
  /** What a 503 or 429 asks the agent to wait, as the POST's Retry-After header says it. */
  readonly retryAfter?: string;
}

export type AgentChannelAnswer = AckFrame | ErrorFrame;

/** The goal states whose changes the control plane announces over the channel. */
export const GOAL_STATE_NOTICES = ['extensions', 'guestConfiguration'] as const;
export type GoalStateNotice = (typeof GOAL_STATE_NOTICES)[number];

/**
 * The control plane's first frame on every channel: the goal states it announces there. From
 * then on, until the channel closes, a change to one of them is a `goalStateChanged` frame; a
 * change made while no channel was open is not announced, so an agent fetches each goal state
 * once when a channel opens after none was.
 */
export interface HelloFrame {
  readonly type: 'hello';
  readonly notices: readonly GoalStateNotice[];
}

/**
 * The machine's goal state for `service` changed: the agent fetches it as it does at start
 * (its goal-state GET without `after`). It carries
 * no goal state itself, so whatever passes it on (HIMDS to the agent's other services) cannot
 * change what they fetch.
 */
export interface GoalStateChangedFrame {
  readonly type: 'goalStateChanged';
  readonly service: GoalStateNotice;
}

/** Every frame the control plane sends. Agents ignore a type they do not know. */
export type AgentChannelServerFrame = AgentChannelAnswer | HelloFrame | GoalStateChangedFrame;

/** Close codes besides the standard ones (1001 the node stopping, 1008 too many frames…). */
export const AGENT_CHANNEL_CLOSE = {
  /** The token expired, or it (its principal, its credential) is refused now: get a new one. */
  tokenRefused: 4401,
  /** The machine identity may no longer heartbeat this machine. */
  forbidden: 4403,
} as const;
