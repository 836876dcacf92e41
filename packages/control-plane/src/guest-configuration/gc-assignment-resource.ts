// The Microsoft.GuestConfiguration/guestConfigurationAssignments resource on a machine: its
// ids, the actions that guard it and the ARM shapes of it and its reports.
import type { Selectable } from 'kysely';
import type {
  GuestConfigurationAssignmentsTable,
  GuestConfigurationReportsTable,
} from '../store/schema.js';

export const GC_ASSIGNMENT_TYPE = 'Microsoft.GuestConfiguration/guestConfigurationAssignments';
export const GC_REPORT_TYPE = 'Microsoft.GuestConfiguration/guestConfigurationAssignments/reports';

/** 2022-01-25 is what @azure/arm-guestconfiguration sends; 2024-04-05 the newest GA. */
export const GC_API_VERSIONS = ['2022-01-25', '2024-04-05'] as const;

export const GC_ACTIONS = {
  read: 'Microsoft.GuestConfiguration/guestConfigurationAssignments/read',
  write: 'Microsoft.GuestConfiguration/guestConfigurationAssignments/write',
  delete: 'Microsoft.GuestConfiguration/guestConfigurationAssignments/delete',
} as const;

/** What the context of an assignment made for a policy assignment says. */
export const POLICY_CONTEXT = 'Azure policy';

export const DEFAULT_FREQUENCY_MINUTES = 15;

export type GcAssignmentRow = Selectable<GuestConfigurationAssignmentsTable>;
export type GcReportRow = Selectable<GuestConfigurationReportsTable>;

const PROVIDER_SEGMENT = '/providers/microsoft.guestconfiguration/guestconfigurationassignments/';

/** The lower-cased ARM id of the assignment `name` of the machine `machineId` (lower-cased). */
export function gcAssignmentIdOf(machineId: string, name: string): string {
  return `${machineId}${PROVIDER_SEGMENT}${name.toLowerCase()}`;
}

/** The machine's display id from an assignment row: the machine part of its id, as stored. */
function displayIdOf(row: GcAssignmentRow, machineDisplayId: string | undefined): string {
  return `${machineDisplayId ?? row.machine_id}/providers/${GC_ASSIGNMENT_TYPE}/${row.name}`;
}

export interface ReportResource {
  resourceId: string;
  complianceStatus: 'Compliant' | 'NonCompliant';
  reasons: { phrase: string; code: string }[];
}

export function reportResources(row: Pick<GcReportRow, 'resources'>): ReportResource[] {
  return JSON.parse(row.resources) as ReportResource[];
}

/**
 * The assignment as ARM shows it; `latest` is its newest report, if any, and `disabledReason`
 * the machine's local setting that switches guest configuration off, which overrides both.
 */
export function renderGcAssignment(
  row: GcAssignmentRow,
  latest: GcReportRow | undefined,
  disabledReason: string | null,
  machineDisplayId?: string,
): object {
  const id = displayIdOf(row, machineDisplayId);
  const disabled = disabledReason !== null;
  return {
    id,
    name: row.name,
    type: GC_ASSIGNMENT_TYPE,
    properties: {
      targetResourceId: machineDisplayId ?? row.machine_id,
      guestConfiguration: {
        name: row.configuration_name,
        version: row.configuration_version,
        contentUri: row.content_uri,
        contentHash: row.content_hash,
        contentType: 'Custom',
        assignmentType: row.assignment_type,
        configurationParameter: JSON.parse(row.parameters) as unknown[],
        configurationSetting: { configurationModeFrequencyMins: row.frequency_minutes },
        kind: 'DSC',
      },
      complianceStatus: disabled ? 'NonCompliant' : row.compliance_status,
      lastComplianceStatusChecked: row.last_checked,
      latestReportId: latest === undefined ? null : `${id}/reports/${latest.report_id}`,
      latestAssignmentReport: disabled
        ? disabledReport(disabledReason)
        : latest === undefined
          ? null
          : {
              id: `${id}/reports/${latest.report_id}`,
              reportId: latest.report_id,
              assignment: {
                name: row.name,
                configuration: { name: row.configuration_name, version: row.configuration_version },
              },
              startTime: latest.start_time,
              endTime: latest.end_time,
              complianceStatus: latest.compliance_status,
              operationType: latest.operation_type,
              resources: reportResources(latest),
            },
      context: row.context,
      provisioningState: row.provisioning_state,
      resourceType: 'Microsoft.HybridCompute/machines',
    },
  };
}

/** Guest configuration switched off on the machine: no evaluation, one reason naming why. */
function disabledReport(reason: string): object {
  return {
    complianceStatus: 'NonCompliant',
    resources: [
      {
        resourceId: 'GuestConfigurationDisabled',
        complianceStatus: 'NonCompliant',
        reasons: [{ code: 'GuestConfigurationDisabled', phrase: reason }],
      },
    ],
  };
}

export function renderGcReport(
  row: GcReportRow,
  assignment: GcAssignmentRow,
  machineDisplayId: string,
): object {
  const assignmentId = displayIdOf(assignment, machineDisplayId);
  return {
    id: `${assignmentId}/reports/${row.report_id}`,
    name: row.report_id,
    properties: {
      complianceStatus: row.compliance_status,
      reportId: row.report_id,
      assignment: {
        name: assignment.name,
        configuration: {
          name: assignment.configuration_name,
          version: assignment.configuration_version,
        },
      },
      vm: { id: machineDisplayId },
      startTime: row.start_time,
      endTime: row.end_time,
      details: {
        complianceStatus: row.compliance_status,
        startTime: row.start_time,
        endTime: row.end_time,
        operationType: row.operation_type,
        resources: reportResources(row),
      },
    },
  };
}
