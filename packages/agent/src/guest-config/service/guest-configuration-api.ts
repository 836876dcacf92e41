// The guest configuration service's calls to the control plane, as the machine identity: the
// goal-state long poll, report uploads, and package downloads through the same signed-package
// download as extensions — only from the control plane itself, since the call carries its token.
import {
  GUEST_CONFIGURATION_AGENT_API_VERSION,
  GUEST_CONFIGURATION_GOAL_STATE_PATH,
  GUEST_CONFIGURATION_REPORTS_PATH,
  type GuestConfigurationGoalAssignment,
  type GuestConfigurationGoalState,
  type GuestConfigurationReportUpload,
} from '@tether/protocol';
import type { MachineTarget } from '../../control-plane/machine-api.js';
import { AgentError } from '../../errors.js';
import type { FetchedPackage } from '../../extensions/extension-host.js';
import {
  LONG_POLL_MARGIN_MS,
  LONG_POLL_WAIT_SECONDS,
  type ReportResult,
} from '../../extensions/service/extension-api.js';
import type { GoalStateSource } from '../../extensions/service/goal-state-poller.js';
import { jsonBody } from '../../extensions/service/https-request.js';
import {
  describeAnswer,
  MachineClient,
  refusedAnswer,
} from '../../extensions/service/machine-client.js';
import type { Credential } from '../../extensions/service/machine-credential.js';
import { downloadSignedPackage } from '../../extensions/service/package-download.js';
import { parseGcGoalState } from './parse-gc-goal-state.js';

const CALL_TIMEOUT_MS = 30_000;
const CALL_DEADLINE_MS = 60_000;
const MAX_JSON_BYTES = 16 * 1024 * 1024;

export interface GuestConfigurationApi extends GoalStateSource<GuestConfigurationGoalState> {
  /** Throws when the upload should be sent again later. */
  uploadReports(upload: GuestConfigurationReportUpload): Promise<ReportResult>;
  /** The signed package at the assignment's contentUri; not yet verified. */
  fetchPackage(assignment: GuestConfigurationGoalAssignment): Promise<FetchedPackage>;
}

export class HttpsGuestConfigurationApi implements GuestConfigurationApi {
  private readonly client: MachineClient;

  constructor(
    private readonly target: MachineTarget,
    credential: Credential,
    private readonly waitSeconds = LONG_POLL_WAIT_SECONDS,
  ) {
    this.client = new MachineClient(target, credential);
  }

  async goalState(
    after: number | undefined,
    signal?: AbortSignal,
  ): Promise<GuestConfigurationGoalState> {
    const query = after === undefined ? '' : `&after=${after}&wait=${this.waitSeconds}`;
    const answer = await this.client.call({
      method: 'GET',
      url: this.client.machineUrl(
        GUEST_CONFIGURATION_GOAL_STATE_PATH,
        GUEST_CONFIGURATION_AGENT_API_VERSION,
        query,
      ),
      accept: 'application/json',
      timeoutMs: this.waitSeconds * 1000 + LONG_POLL_MARGIN_MS,
      deadlineMs: this.waitSeconds * 1000 + LONG_POLL_MARGIN_MS,
      maxBytes: MAX_JSON_BYTES,
      signal,
    });
    if (answer.status !== 200) {
      throw refusedAnswer('answer the guest configuration goal state', answer);
    }
    try {
      return parseGcGoalState(jsonBody(answer));
    } catch (error) {
      throw new AgentError(
        'ERR_CONTROL_PLANE_REFUSED',
        `The control plane answered a guest configuration goal state the agent cannot use: ${(error as Error).message}.`,
      );
    }
  }

  async uploadReports(upload: GuestConfigurationReportUpload): Promise<ReportResult> {
    const answer = await this.client.call({
      method: 'POST',
      url: this.client.machineUrl(
        GUEST_CONFIGURATION_REPORTS_PATH,
        GUEST_CONFIGURATION_AGENT_API_VERSION,
      ),
      json: upload,
      accept: 'application/json',
      timeoutMs: CALL_TIMEOUT_MS,
      deadlineMs: CALL_DEADLINE_MS,
      maxBytes: MAX_JSON_BYTES,
    });
    if (answer.status === 200) return 'accepted';
    // 400: the control plane will never take these reports; sending them again changes nothing.
    if (answer.status === 400) return { dropped: describeAnswer(answer) };
    throw refusedAnswer('accept the guest configuration reports', answer);
  }

  fetchPackage(assignment: GuestConfigurationGoalAssignment): Promise<FetchedPackage> {
    const what = `${assignment.configurationName} ${assignment.version}`;
    const entry = sameOriginEntry(this.target.endpoint, assignment.contentUri, what);
    return downloadSignedPackage(this.client, entry, GUEST_CONFIGURATION_AGENT_API_VERSION, what);
  }
}

/**
 * The contentUri resolved against the endpoint, without query or fragment. Anything on another
 * origin is refused: the download carries the machine's bearer token.
 */
export function sameOriginEntry(endpoint: string, contentUri: string, what: string): string {
  let url: URL;
  try {
    url = new URL(contentUri, endpoint);
  } catch {
    url = new URL('invalid:');
  }
  const base = new URL(endpoint);
  if (url.origin !== base.origin) {
    throw new AgentError(
      'ERR_CONTROL_PLANE_REFUSED',
      `The contentUri "${contentUri}" of ${what} is not on the control plane ${base.origin}; the agent downloads guest configuration packages only from there.`,
      { target: contentUri },
    );
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}
