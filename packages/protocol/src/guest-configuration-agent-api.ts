// What the agent's guest configuration service and the control plane say to each other: the
// machine's guest configuration goal state (long-polled like the extension goal state) and the
// compliance reports the service sends back. Both sides validate what they receive.
import type { AssignmentType, ComplianceReason, ComplianceStatus } from './guest-configuration.js';

/** api-version of the agent's own guest configuration calls. */
export const GUEST_CONFIGURATION_AGENT_API_VERSION = '2024-07-10';

/**
 * Machine-relative paths (after `…/providers/Microsoft.HybridCompute/machines/{m}`):
 * `GET  /guestConfigurationGoalState?api-version=…[&after=<generation>&wait=<seconds>]` answers
 *      a {@link GuestConfigurationGoalState}, at once when the generation differs from `after`,
 *      otherwise when it changes or `wait` (1–60, default 50) seconds pass;
 * `POST /guestConfigurationReports?api-version=…` takes a {@link GuestConfigurationReportUpload}
 *      and answers 200 `{accepted: <count>}`.
 * Both need the machine's own identity (role "Tether Connected Machine").
 */
export const GUEST_CONFIGURATION_GOAL_STATE_PATH = '/guestConfigurationGoalState';
export const GUEST_CONFIGURATION_REPORTS_PATH = '/guestConfigurationReports';

/** Actions of the machine identity for those two calls. */
export const GUEST_CONFIGURATION_AGENT_ACTIONS = {
  goalState: 'Microsoft.HybridCompute/machines/guestConfigurationGoalState/read',
  report: 'Microsoft.HybridCompute/machines/guestConfigurationReports/action',
} as const;

/** One guest configuration assignment of the machine, as its service must carry it out. */
export interface GuestConfigurationGoalAssignment {
  /** The guest configuration assignment's name on the machine. */
  readonly name: string;
  /** The configuration (package) name and its exact version. */
  readonly configurationName: string;
  readonly version: string;
  /**
   * Where the signed package is, on the control plane: the extension package repository's
   * entry `/providers/Tether.Extensions/publishers/{publisher}/types/{configurationName}/
   * versions/{version}` (its `package` and `signature` below it), so the same download,
   * size limit and publisher trust apply. The signature's `typ` is the guest configuration one,
   * so the package can never be installed as an extension, nor an extension run as this.
   */
  readonly publisher: string;
  readonly contentUri: string;
  /** Lower-case hex SHA-256 of the package zip; checked before anything in it is read. */
  readonly contentHash: string;
  readonly assignmentType: AssignmentType;
  readonly parameters: readonly { readonly name: string; readonly value: string }[];
  /** How often to evaluate, in minutes (15 unless the assignment says otherwise). */
  readonly frequencyMinutes: number;
  /**
   * Grows each time someone asks for an evaluation now (`triggerEvaluation`); the service
   * evaluates again as soon as it sees a larger number than the one it last evaluated for.
   */
  readonly evaluationRequest: number;
}

export interface GuestConfigurationGoalState {
  readonly generation: number;
  readonly assignments: readonly GuestConfigurationGoalAssignment[];
}

/** One rule's outcome, in Azure's report shape (`resourceId` is the rule id). */
export interface GuestConfigurationReportResource {
  readonly resourceId: string;
  readonly complianceStatus: ComplianceStatus;
  readonly reasons: readonly ComplianceReason[];
}

/** One evaluation of one assignment. */
export interface GuestConfigurationAssignmentReport {
  readonly assignmentName: string;
  /** A UUID the service makes; the same report sent twice is stored once. */
  readonly reportId: string;
  readonly configurationName: string;
  readonly version: string;
  /** The evaluationRequest this evaluation answers (0 when none was asked for). */
  readonly evaluationRequest: number;
  readonly startTime: string;
  readonly endTime: string;
  /** `Initial` for the first evaluation of an assignment on this machine, then `Consistency`. */
  readonly operationType: 'Initial' | 'Consistency';
  readonly complianceStatus: ComplianceStatus;
  readonly resources: readonly GuestConfigurationReportResource[];
}

export interface GuestConfigurationReportUpload {
  /**
   * Present when the service evaluates nothing because of a local setting
   * (`guestconfiguration.enabled false`, monitor mode): the reason, for the operator; the
   * control plane then shows every assignment of the machine NonCompliant with it.
   */
  readonly disabledReason?: string;
  readonly reports: readonly GuestConfigurationAssignmentReport[];
}
