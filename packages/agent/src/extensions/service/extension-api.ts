// The extension service's calls to the control plane (docs/extensions.md "Agent calls"): the
// goal-state long poll, status reports, and package signature + bytes, as the machine identity.
import type { AgentUpgradeReport } from '@tether/protocol/agent-upgrade';
import type { PackageIdentity } from '@tether/protocol/extension-package';
import { AgentError } from '../../errors.js';
import type { MachineTarget } from '../../control-plane/machine-api.js';
import type { FetchedPackage } from '../extension-host.js';
import { parseGoalState, type GoalState } from './goal-state.js';
import { jsonBody } from './https-request.js';
import { describeAnswer, MachineClient, refusedAnswer } from './machine-client.js';
import type { Credential } from './machine-credential.js';
import { downloadSignedPackage } from './package-download.js';
import type { StatusReport } from './status-report.js';

export const EXTENSION_API_VERSION = '2024-07-10';
/** The control plane holds a poll at most this long; a request waits a little longer. */
export const LONG_POLL_WAIT_SECONDS = 50;
export const LONG_POLL_MARGIN_MS = 20_000;
const CALL_TIMEOUT_MS = 30_000;
const CALL_DEADLINE_MS = 60_000;
const MAX_JSON_BYTES = 16 * 1024 * 1024;
/** An agent package carries its own runtime: tens of megabytes, over whatever link there is. */
const AGENT_PACKAGE_DEADLINE_MS = 15 * 60_000;

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
  private readonly client: MachineClient;

  constructor(
    private readonly target: MachineTarget,
    credential: Credential,
    private readonly waitSeconds = LONG_POLL_WAIT_SECONDS,
  ) {
    this.client = new MachineClient(target, credential);
  }

  async goalState(after: number | undefined, signal?: AbortSignal): Promise<GoalState> {
    const query = after === undefined ? '' : `&after=${after}&wait=${this.waitSeconds}`;
    const answer = await this.client.call({
      method: 'GET',
      url: this.client.machineUrl('/extensionGoalState', EXTENSION_API_VERSION, query),
      accept: 'application/json',
      timeoutMs: this.waitSeconds * 1000 + LONG_POLL_MARGIN_MS,
      deadlineMs: this.waitSeconds * 1000 + LONG_POLL_MARGIN_MS,
      maxBytes: MAX_JSON_BYTES,
      signal,
    });
    if (answer.status !== 200) throw refusedAnswer('answer the extension goal state', answer);
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
    const answer = await this.client.call({
      method: 'POST',
      url: this.client.machineUrl('/extensionStatus', EXTENSION_API_VERSION),
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
      return { dropped: describeAnswer(answer) };
    }
    throw refusedAnswer('accept the extension status', answer);
  }

  fetchPackage(identity: PackageIdentity): Promise<FetchedPackage> {
    const entry = `${this.target.endpoint}/providers/Tether.Extensions/publishers/${encodeURIComponent(identity.publisher)}/types/${encodeURIComponent(identity.type)}/versions/${encodeURIComponent(identity.version)}`;
    const what = `${identity.publisher}.${identity.type} ${identity.version}`;
    return downloadSignedPackage(this.client, entry, EXTENSION_API_VERSION, what);
  }

  /** The bytes at `downloadPath` on the control plane, at most `maxBytes` of them. */
  async fetchAgentPackage(downloadPath: string, maxBytes: number): Promise<Buffer> {
    const answer = await this.client.call({
      method: 'GET',
      url: `${this.target.endpoint}${downloadPath}`,
      accept: 'application/vnd.debian.binary-package',
      timeoutMs: CALL_TIMEOUT_MS,
      deadlineMs: AGENT_PACKAGE_DEADLINE_MS,
      maxBytes,
    });
    if (answer.status !== 200) throw refusedAnswer('serve the agent package', answer);
    return answer.body;
  }

  /** Throws when the report should be sent again later. */
  async reportAgentUpgrade(report: AgentUpgradeReport): Promise<void> {
    const answer = await this.client.call({
      method: 'POST',
      url: this.client.machineUrl('/agentUpgradeReport', EXTENSION_API_VERSION),
      json: report,
      accept: 'application/json',
      timeoutMs: CALL_TIMEOUT_MS,
      deadlineMs: CALL_DEADLINE_MS,
      maxBytes: MAX_JSON_BYTES,
    });
    if (answer.status !== 200) throw refusedAnswer('accept the agent upgrade report', answer);
  }
}
