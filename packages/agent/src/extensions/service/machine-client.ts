// HTTPS calls to the control plane as the machine identity, shared by the root services
// (extensions, guest configuration): a 401 re-reads the machine key (HIMDS may have rotated
// it) and retries once; refusals become ERR_CONTROL_PLANE_REFUSED naming what was refused.
import { isTetherError } from '@tether/protocol';
import { machineResourceId, type MachineTarget } from '../../control-plane/machine-api.js';
import { AgentError } from '../../errors.js';
import { withRetryAfter } from '../../himds/backoff.js';
import { httpsBytes, jsonBody, type BytesAnswer, type BytesCall } from './https-request.js';
import type { Credential } from './machine-credential.js';

export class MachineClient {
  constructor(
    readonly target: MachineTarget,
    private readonly credential: Credential,
  ) {}

  /** `{endpoint}{machine resource id}{action}?api-version=…{query}`. */
  machineUrl(action: string, apiVersion: string, query = ''): string {
    const path = machineResourceId(this.target)
      .split('/')
      .map((part) => encodeURIComponent(part))
      .join('/');
    return `${this.target.endpoint}${path}${action}?api-version=${apiVersion}${query}`;
  }

  async call(call: Omit<BytesCall, 'ca' | 'token' | 'route'>): Promise<BytesAnswer> {
    const send = async (): Promise<BytesAnswer> =>
      httpsBytes({
        ...call,
        route: this.target.egress('Arc'),
        ca: this.target.ca,
        token: await this.credential.token(),
      });
    let answer: BytesAnswer;
    try {
      answer = await send();
    } catch (error) {
      if (!(isTetherError(error) && error.code === 'ERR_AUTH_FAILED')) throw error;
      this.credential.renew();
      return send();
    }
    if (answer.status !== 401) return answer;
    this.credential.renew();
    return send();
  }
}

/** `<status> <code>: <message>` from an ARM error body, for logs and error messages. */
export function describeAnswer(answer: BytesAnswer): string {
  const body = jsonBody(answer);
  const error = body['error'];
  const text = (value: unknown): string => (typeof value === 'string' ? value : '');
  if (typeof error === 'object' && error !== null) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    return `${answer.status} ${text(code)}: ${text(message)}`;
  }
  return `${answer.status} ${JSON.stringify(body).slice(0, 300)}`;
}

/** A refusal; a busy control plane's Retry-After travels with it (himds/backoff.ts). */
export function refusedAnswer(what: string, answer: BytesAnswer): AgentError {
  return withRetryAfter(
    new AgentError(
      'ERR_CONTROL_PLANE_REFUSED',
      `The control plane did not ${what}: ${describeAnswer(answer)}.`,
    ),
    answer.status,
    answer.retryAfter,
  );
}
