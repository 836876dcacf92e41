// The local instance-metadata service on 127.0.0.1 (SPEC §4): instance metadata, and
// managed-identity tokens behind the file challenge; errors in the Azure IMDS shape. For the
// agent's own services, the goal-state notice counters (GET /agent/goalStateNotices), so they
// wait on HIMDS instead of each holding a long poll at the control plane.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { GOAL_STATE_NOTICES, isTetherError, type GoalStateNotice } from '@tether/protocol';
import type { AgentState } from '../identity/agent-state.js';
import { ChallengeLimitError, type ChallengeStore } from './challenge-store.js';
import {
  GOAL_STATE_NOTICES_PATH,
  MAX_NOTICE_WAIT_SECONDS,
  TooManyWaitersError,
  type GoalStateNotices,
} from './goal-state-notices.js';
import { loopbackPeerUid } from './loopback-peer.linux.js';
import type { AccessToken } from '../control-plane/token-client.js';

export interface HimdsDependencies {
  readonly state: () => AgentState;
  readonly challenges: ChallengeStore;
  readonly token: (resource: string) => Promise<AccessToken>;
  readonly nowMs: () => number;
  /** The agent channel's goal-state notices; none: the notice endpoint is not found. */
  readonly notices?: GoalStateNotices;
}

const TOKEN_API_VERSIONS = new Set(['2019-11-01', '2020-06-01']);
const INSTANCE_API_VERSIONS = new Set(['2020-06-01', '2021-02-01', '2021-05-01']);

interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
}

function imdsError(status: number, error: string, description: string): Answer {
  return { status, body: { error, error_description: description } };
}

/** Pure request handling, so header and challenge rules are tested without sockets. */
export async function handleHimdsRequest(
  request: {
    method: string;
    url: string;
    headers: Readonly<Record<string, string | string[] | undefined>>;
    /** The local account on the other end; asked only when challenges are scarce. */
    callerUid?: () => number | undefined;
    /** Aborted when the caller goes away: a held ask ends. */
    signal?: AbortSignal;
  },
  deps: HimdsDependencies,
): Promise<Answer> {
  // A web page can point a DNS name of its own at 127.0.0.1 (DNS rebinding); a browser then
  // sends that name as Host. Only loopback names reach HIMDS.
  if (!isLoopbackHost(request.headers['host'])) {
    return imdsError(
      400,
      'invalid_request',
      'HIMDS answers only requests addressed to localhost, 127.0.0.1 or [::1] (the Host header).',
    );
  }
  // A proxy in front of HIMDS would let remote callers reach a loopback-only service.
  if (
    request.headers['x-forwarded-for'] !== undefined ||
    request.headers['forwarded'] !== undefined
  ) {
    return imdsError(
      400,
      'invalid_request',
      'Requests forwarded by a proxy (X-Forwarded-For or Forwarded) are refused.',
    );
  }
  if (request.headers['metadata'] !== 'true') {
    return imdsError(
      400,
      'invalid_request',
      'Required metadata header not specified or not correct: send "Metadata: true".',
    );
  }
  if (request.method !== 'GET')
    return imdsError(405, 'invalid_request', `Method ${request.method} is not allowed; use GET.`);
  const url = new URL(request.url, 'http://localhost');
  if (url.pathname === GOAL_STATE_NOTICES_PATH && deps.notices !== undefined)
    return goalStateNotices(url.searchParams, deps.notices, request.signal);
  const apiVersion = url.searchParams.get('api-version');
  if (url.pathname === '/metadata/instance' || url.pathname === '/metadata/instance/') {
    if (apiVersion === null || !INSTANCE_API_VERSIONS.has(apiVersion)) {
      return imdsError(
        400,
        'invalid_request',
        `Bad api-version "${apiVersion ?? ''}"; supported: ${[...INSTANCE_API_VERSIONS].join(', ')}.`,
      );
    }
    return { status: 200, body: instanceMetadata(deps.state()) };
  }
  if (url.pathname === '/metadata/identity/oauth2/token') {
    if (apiVersion === null || !TOKEN_API_VERSIONS.has(apiVersion)) {
      return imdsError(
        400,
        'invalid_request',
        `Bad api-version "${apiVersion ?? ''}"; supported: 2019-11-01, 2020-06-01.`,
      );
    }
    const resource = url.searchParams.get('resource');
    if (resource === null || resource === '')
      return imdsError(400, 'invalid_request', 'Required query parameter "resource" is missing.');
    for (const unsupported of ['client_id', 'object_id', 'mi_res_id', 'msi_res_id']) {
      if (url.searchParams.has(unsupported)) {
        return imdsError(
          400,
          'invalid_request',
          `"${unsupported}" is not supported: the machine has only its system-assigned identity.`,
        );
      }
    }
    const authorization = request.headers['authorization'];
    if (typeof authorization !== 'string') {
      let realm: string;
      try {
        realm = deps.challenges.create(request.callerUid);
      } catch (error) {
        if (!(error instanceof ChallengeLimitError)) throw error;
        return {
          ...imdsError(429, 'too_many_requests', error.message),
          headers: { 'retry-after': '5' },
        };
      }
      return {
        status: 401,
        body: imdsError(
          401,
          'unauthorized',
          'Read the file named in WWW-Authenticate and retry with Authorization: Basic <contents>.',
        ).body,
        headers: { 'www-authenticate': `Basic realm=${realm}` },
      };
    }
    const match = /^Basic (.+)$/.exec(authorization);
    if (match?.[1] === undefined || !deps.challenges.redeem(match[1])) {
      return imdsError(
        401,
        'unauthorized',
        'The challenge secret is wrong, used or expired; request a new challenge.',
      );
    }
    let token: AccessToken;
    try {
      token = await deps.token(resource);
    } catch (error) {
      if (isTetherError(error) && error.code === 'ERR_AUTH_FAILED') {
        return imdsError(403, 'forbidden', (error as Error).message);
      }
      return imdsError(
        500,
        'unknown_error',
        `Cannot get a token from the control plane: ${(error as Error).message}`,
      );
    }
    const expiresOn = Math.floor(token.expiresAt / 1000);
    return {
      status: 200,
      body: {
        access_token: token.token,
        expires_on: String(expiresOn),
        expires_in: String(Math.max(0, expiresOn - Math.floor(deps.nowMs() / 1000))),
        resource,
        token_type: 'Bearer',
      },
    };
  }
  return imdsError(404, 'not_found', `No such endpoint: ${url.pathname}.`);
}

/**
 * `{announced, sequence}` for one goal state: at once when it is not announced or its sequence is
 * not `after` (a restarted HIMDS counts from 0 again, so any difference is a change); otherwise
 * once that changes, or when `wait` seconds pass. Only counters: whoever asks learns that a goal
 * state changed, never what it is.
 */
async function goalStateNotices(
  query: URLSearchParams,
  notices: GoalStateNotices,
  signal: AbortSignal | undefined,
): Promise<Answer> {
  const service = query.get('service') ?? '';
  if (!(GOAL_STATE_NOTICES as readonly string[]).includes(service)) {
    return imdsError(
      400,
      'invalid_request',
      `Query parameter "service" must be one of ${GOAL_STATE_NOTICES.join(', ')}; got "${service}".`,
    );
  }
  const after = query.get('after');
  const wait = query.get('wait');
  for (const [name, value] of [
    ['after', after],
    ['wait', wait],
  ] as const) {
    if (value !== null && !/^\d{1,15}$/.test(value)) {
      return imdsError(
        400,
        'invalid_request',
        `Query parameter "${name}" must be a whole number of at most 15 digits; got "${value}".`,
      );
    }
  }
  const waitSeconds = Math.min(MAX_NOTICE_WAIT_SECONDS, wait === null ? 0 : Number(wait));
  try {
    const state = await notices.wait(
      service as GoalStateNotice,
      after === null ? undefined : Number(after),
      waitSeconds * 1000,
      signal,
    );
    return { status: 200, body: state };
  } catch (error) {
    if (!(error instanceof TooManyWaitersError)) throw error;
    return {
      ...imdsError(429, 'too_many_requests', error.message),
      headers: { 'retry-after': '5' },
    };
  }
}

const LOOPBACK_HOST = /^(?:localhost|127\.0\.0\.1|\[::1\])(?::\d{1,5})?$/i;

function isLoopbackHost(host: string | string[] | undefined): boolean {
  return typeof host === 'string' && LOOPBACK_HOST.test(host);
}

function instanceMetadata(state: AgentState): unknown {
  const tags = Object.entries(state.tags);
  return {
    compute: {
      name: state.resourceName,
      location: state.location,
      resourceGroupName: state.resourceGroup,
      subscriptionId: state.subscriptionId,
      resourceId: state.resourceId,
      vmId: state.vmId,
      osType: 'Linux',
      tags: tags.map(([k, v]) => `${k}:${v}`).join(';'),
      tagsList: tags.map(([name, value]) => ({ name, value })),
    },
    network: {},
  };
}

export function createHimdsServer(deps: HimdsDependencies): Server {
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const gone = new AbortController();
    res.once('close', () => gone.abort());
    handleHimdsRequest(
      {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.headers,
        callerUid: () => loopbackPeerUid(req.socket.remotePort ?? 0, req.socket.localPort ?? 0),
        signal: gone.signal,
      },
      deps,
    ).then(
      (answer) => {
        const body = JSON.stringify(answer.body);
        res.writeHead(answer.status, {
          'content-type': 'application/json; charset=utf-8',
          ...answer.headers,
        });
        res.end(body);
      },
      () => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'unknown_error', error_description: 'internal error' }));
      },
    );
    req.resume();
  });
}
