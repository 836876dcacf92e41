// The extension service's calls to the control plane (docs/extensions.md "Agent calls"): the
// goal-state long poll, status reports, and package signature + bytes, as the machine identity.
// A 401 re-reads the machine key (HIMDS may have rotated it) and retries once.
import { MAX_PACKAGE_BYTES, type PackageIdentity } from '@tether/protocol/extension-package';
import { isTetherError } from '@tether/protocol';
import { AgentError } from '../../errors.js';
import { machineResourceId, type MachineTarget } from '../../control-plane/machine-api.js';
import type { FetchedPackage } from '../extension-host.js';
import { parseGoalState, type GoalState } from './goal-state.js';
import { httpsBytes, jsonBody, type BytesAnswer, type BytesCall } from './https-request.js';
import type { Credential } from './machine-credential.js';
import type { StatusReport } from './status-report.js';

export const EXTENSION_API_VERSION = '2024-07-10';
/** The control plane holds a poll at most this long; a request waits a little longer. */
export const LONG_POLL_WAIT_SECONDS = 50;
const LONG_POLL_MARGIN_MS = 20_000;
const CALL_TIMEOUT_MS = 30_000;
const CALL_DEADLINE_MS = 60_000;
/** A download runs while the host holds the state lock that `extension remove` waits for. */
const DOWNLOAD_DEADLINE_MS = 10 * 60_000;
const MAX_JSON_BYTES = 16 * 1024 * 1024;

/** What a status report came to: accepted, or dropped for good (stale id, gone extension). */
export type ReportResult = 'accepted' | { readonly dropped: string };

export interface ExtensionApi {
  /** Answers at once without `after`; otherwise when the generation changes or `wait` passes. */
  goalState(after: number | undefined, signal?: AbortSignal): Promise<GoalState>;
  /** Throws when the report should be sent again later. */
  reportStatus(report: StatusReport): Promise<ReportResult>;
  fetchPackage(identity: PackageIdentity): Promise<FetchedPackage>;
}

export class HttpsExtensionApi implements ExtensionApi {
  constructor(
    private readonly target: MachineTarget,
    private readonly credential: Credential,
    private readonly waitSeconds = LONG_POLL_WAIT_SECONDS,
  ) {}

  async goalState(after: number | undefined, signal?: AbortSignal): Promise<GoalState> {
    const query = after === undefined ? '' : `&after=${after}&wait=${this.waitSeconds}`;
    const answer = await this.call({
      method: 'GET',
      url: this.machineUrl('/extensionGoalState', query),
      accept: 'application/json',
      timeoutMs: this.waitSeconds * 1000 + LONG_POLL_MARGIN_MS,
      deadlineMs: this.waitSeconds * 1000 + LONG_POLL_MARGIN_MS,
      maxBytes: MAX_JSON_BYTES,
      signal,
    });
    if (answer.status !== 200) throw refused('answer the extension goal state', answer);
    try {
      return parseGoalState(jsonBody(answer));
    } catch (error) {
      throw new AgentError(
        'ERR_CONTROL_PLANE_REFUSED',
        `The control plane answered a goal state the agent cannot use: ${(error as Error).message}.`,
      );
    }
  }

  async reportStatus(report: StatusReport): Promise<ReportResult> {
    const answer = await this.call({
      method: 'POST',
      url: this.machineUrl('/extensionStatus', ''),
      json: report,
      accept: 'application/json',
      timeoutMs: CALL_TIMEOUT_MS,
      deadlineMs: CALL_DEADLINE_MS,
      maxBytes: MAX_JSON_BYTES,
    });
    if (answer.status === 200) return 'accepted';
    // 409: the operation is no longer InProgress (completed, timed out) — nothing to retry.
    // 400/404: the control plane will never take this report (the extension is gone).
    if (answer.status === 409 || answer.status === 400 || answer.status === 404) {
      return { dropped: describe(answer) };
    }
    throw refused('accept the extension status', answer);
  }

  async fetchPackage(identity: PackageIdentity): Promise<FetchedPackage> {
    const base = `${this.target.endpoint}/providers/Tether.Extensions/publishers/${encodeURIComponent(identity.publisher)}/types/${encodeURIComponent(identity.type)}/versions/${encodeURIComponent(identity.version)}`;
    const what = `${identity.publisher}.${identity.type} ${identity.version}`;
    const metadata = await this.call({
      method: 'GET',
      url: `${base}?api-version=${EXTENSION_API_VERSION}`,
      accept: 'application/json',
      timeoutMs: CALL_TIMEOUT_MS,
      deadlineMs: CALL_DEADLINE_MS,
      maxBytes: MAX_JSON_BYTES,
    });
    if (metadata.status !== 200) throw refused(`serve the package metadata of ${what}`, metadata);
    const signature = jsonBody(metadata)['signature'];
    if (typeof signature !== 'string' || signature === '') {
      throw new AgentError(
        'ERR_CONTROL_PLANE_REFUSED',
        `The control plane's metadata for ${what} has no signature.`,
      );
    }
    const zip = await this.call({
      method: 'GET',
      url: `${base}/package?api-version=${EXTENSION_API_VERSION}`,
      accept: 'application/zip',
      timeoutMs: CALL_TIMEOUT_MS,
      deadlineMs: DOWNLOAD_DEADLINE_MS,
      maxBytes: MAX_PACKAGE_BYTES,
    });
    if (zip.status !== 200) throw refused(`serve the package ${what}`, zip);
    return { zip: new Uint8Array(zip.body), signature };
  }

  private machineUrl(action: string, query: string): string {
    const path = machineResourceId(this.target)
      .split('/')
      .map((part) => encodeURIComponent(part))
      .join('/');
    return `${this.target.endpoint}${path}${action}?api-version=${EXTENSION_API_VERSION}${query}`;
  }

  private async call(call: Omit<BytesCall, 'ca' | 'token'>): Promise<BytesAnswer> {
    const send = async (): Promise<BytesAnswer> =>
      httpsBytes({ ...call, ca: this.target.ca, token: await this.credential.token() });
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

function describe(answer: BytesAnswer): string {
  const body = jsonBody(answer);
  const error = body['error'];
  const text = (value: unknown): string => (typeof value === 'string' ? value : '');
  if (typeof error === 'object' && error !== null) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    return `${answer.status} ${text(code)}: ${text(message)}`;
  }
  return `${answer.status} ${JSON.stringify(body).slice(0, 300)}`;
}

function refused(what: string, answer: BytesAnswer): AgentError {
  return new AgentError(
    'ERR_CONTROL_PLANE_REFUSED',
    `The control plane did not ${what}: ${describe(answer)}.`,
  );
}
