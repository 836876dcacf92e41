// The machine calls of docs/agent-protocol.md: create (PUT with a system-assigned identity),
// delete, heartbeat (its answer, whichever way it came) and rotateCredential, over the ARM shape.
import { AGENT_CHANNEL_SEGMENT } from '@tether/protocol';
import { AgentError } from '../errors.js';
import { withRetryAfter } from '../himds/backoff.js';
import type { Egress } from '../network/egress.js';
import { describeError, httpsJson, type HttpsAnswer } from './https-json.js';

export const API_VERSION = '2024-07-10';

export interface MachineTarget {
  readonly endpoint: string;
  readonly ca: string | undefined;
  /** Asked before every call: the proxy settings may change while a service runs. */
  readonly egress: Egress;
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly resourceName: string;
}

export function machineResourceId(
  target: Omit<MachineTarget, 'endpoint' | 'ca' | 'egress'>,
): string {
  return `/subscriptions/${target.subscriptionId}/resourceGroups/${target.resourceGroup}/providers/Microsoft.HybridCompute/machines/${target.resourceName}`;
}

function machineUrl(target: MachineTarget, action = ''): string {
  const path = machineResourceId(target)
    .split('/')
    .map((part) => encodeURIComponent(part))
    .join('/');
  return `${target.endpoint}${path}${action}?api-version=${API_VERSION}`;
}

export interface MachineFacts {
  readonly clientPublicKey: string;
  readonly vmId: string;
  readonly osName: string;
  readonly osType: string;
  readonly osVersion: string;
  readonly machineFqdn: string;
  readonly agentVersion: string;
}

export interface CreatedMachine {
  readonly id: string;
  readonly principalId: string;
  readonly tenantId: string;
}

export async function putMachine(
  target: MachineTarget,
  token: string,
  body: { location: string; tags: Record<string, string>; properties: MachineFacts },
  correlationId: string | undefined,
): Promise<CreatedMachine> {
  const answer = await httpsJson({
    method: 'PUT',
    url: machineUrl(target),
    ca: target.ca,
    route: target.egress('ARM'),
    token,
    json: { ...body, identity: { type: 'SystemAssigned' } },
    headers: correlationId === undefined ? {} : { 'x-ms-correlation-request-id': correlationId },
  });
  if (answer.status !== 200 && answer.status !== 201)
    throw refused('create the machine resource', answer);
  const identity = answer.body['identity'] as Record<string, unknown> | undefined;
  const principalId = identity?.['principalId'];
  const tenantId = identity?.['tenantId'];
  if (typeof principalId !== 'string' || typeof tenantId !== 'string') {
    throw new AgentError(
      'ERR_CONTROL_PLANE_REFUSED',
      'The control plane created the machine but returned no system-assigned identity (identity.principalId); it may not support agent onboarding yet.',
    );
  }
  const id = answer.body['id'];
  return { id: typeof id === 'string' ? id : machineResourceId(target), principalId, tenantId };
}

export async function deleteMachine(
  target: MachineTarget,
  token: string,
): Promise<'deleted' | 'absent'> {
  const answer = await httpsJson({
    method: 'DELETE',
    url: machineUrl(target),
    ca: target.ca,
    route: target.egress('ARM'),
    token,
  });
  if (answer.status === 204) return 'absent';
  if (answer.status === 200 || answer.status === 202) return 'deleted';
  throw refused('delete the machine resource', answer);
}

export interface HeartbeatAnswer {
  readonly heartbeatIntervalSeconds: number | undefined;
  readonly credentialExpiresOn: string | undefined;
  readonly rotationRequested: boolean;
  /** The newest local change the control plane has stored, when the heartbeat carried some. */
  readonly localChangesAcknowledged: number | undefined;
}

/** What an answer is read by: its status and body, and its headers when it came over HTTP. */
type AnswerOf = Pick<HttpsAnswer, 'status' | 'body'> & Partial<Pick<HttpsAnswer, 'headers'>>;

export function heartbeatUrl(target: MachineTarget): string {
  return machineUrl(target, '/heartbeat');
}

/** The agent channel's URL (wss://…/machines/{m}/agentChannel?api-version=…). */
export function agentChannelUrl(target: MachineTarget): string {
  return machineUrl(target, `/${AGENT_CHANNEL_SEGMENT}`).replace(/^https:/, 'wss:');
}

export async function postHeartbeat(
  target: MachineTarget,
  token: string,
  body: unknown,
): Promise<HeartbeatAnswer> {
  const answer = await httpsJson({
    method: 'POST',
    url: heartbeatUrl(target),
    ca: target.ca,
    route: target.egress('Arc'),
    token,
    json: body,
  });
  return heartbeatAnswerOf(answer);
}

/**
 * What the control plane's answer to a heartbeat means, whichever way it came (the POST, or a
 * frame of the agent channel carrying the same status and body).
 */
export function heartbeatAnswerOf(answer: AnswerOf): HeartbeatAnswer {
  if (answer.status === 401) {
    // The machine itself is refused (revoked, deleted, expired), not this one request.
    throw new AgentError(
      'ERR_AUTH_FAILED',
      `The control plane refuses this machine's identity: ${describeError(answer)}.`,
    );
  }
  if (answer.status !== 200) throw refused('accept the heartbeat', answer);
  const credential = (answer.body['credential'] ?? {}) as Record<string, unknown>;
  const interval = Number(answer.body['heartbeatIntervalSeconds']);
  const acknowledged = answer.body['localChangesAcknowledged'];
  return {
    heartbeatIntervalSeconds: Number.isFinite(interval) && interval > 0 ? interval : undefined,
    credentialExpiresOn:
      typeof credential['expiresOn'] === 'string' ? credential['expiresOn'] : undefined,
    rotationRequested: credential['rotationRequested'] === true,
    localChangesAcknowledged:
      typeof acknowledged === 'number' && Number.isSafeInteger(acknowledged) && acknowledged > 0
        ? acknowledged
        : undefined,
  };
}

export async function postRotateCredential(
  target: MachineTarget,
  token: string,
  clientPublicKey: string,
): Promise<string> {
  const answer = await httpsJson({
    method: 'POST',
    url: machineUrl(target, '/rotateCredential'),
    ca: target.ca,
    route: target.egress('Arc'),
    token,
    json: { clientPublicKey },
  });
  const expiresOn = answer.body['expiresOn'];
  if (answer.status !== 200 || typeof expiresOn !== 'string')
    throw refused('rotate the credential', answer);
  return expiresOn;
}

/** A refusal; a busy control plane's Retry-After travels with it (himds/backoff.ts). */
function refused(what: string, answer: AnswerOf): AgentError {
  return withRetryAfter(
    new AgentError(
      'ERR_CONTROL_PLANE_REFUSED',
      `The control plane did not ${what}: ${describeError(answer)}.`,
    ),
    answer.status,
    answer.headers?.['retry-after'],
  );
}
