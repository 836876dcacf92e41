// The agent's report upload, validated strictly: every field checked, nothing unknown kept, so a
// bad report is refused whole and changes nothing.
import type {
  GuestConfigurationAssignmentReport,
  GuestConfigurationReportUpload,
} from '@tether/protocol';
import {
  asObject,
  field,
  invalidContent,
  optionalString,
  rejectUnknownFields,
  requiredString,
  type JsonObject,
} from '../resources/arm-request.js';

/** At most 50 assignments per machine, a few reports each between uploads. */
export const MAX_REPORTS_PER_UPLOAD = 200;
const MAX_RESOURCES = 500;
const MAX_REASONS = 20;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const STATUSES = ['Compliant', 'NonCompliant'] as const;
const OPERATIONS = ['Initial', 'Consistency'] as const;

export function parseReportUpload(body: JsonObject): GuestConfigurationReportUpload {
  rejectUnknownFields(body, ['disabledReason', 'reports'], '');
  const disabledReason = optionalString(body, 'disabledReason', 'disabledReason', 512);
  const reports = field(body, 'reports');
  if (!Array.isArray(reports) || reports.length > MAX_REPORTS_PER_UPLOAD) {
    throw invalidContent('reports', `must be a list of at most ${MAX_REPORTS_PER_UPLOAD} reports`);
  }
  return {
    ...(disabledReason === undefined ? {} : { disabledReason }),
    reports: reports.map((r, i) => parseReport(r, `reports[${i}]`)),
  };
}

function parseReport(value: unknown, path: string): GuestConfigurationAssignmentReport {
  const report = asObject(value, path);
  rejectUnknownFields(
    report,
    [
      'assignmentName',
      'reportId',
      'configurationName',
      'version',
      'evaluationRequest',
      'startTime',
      'endTime',
      'operationType',
      'complianceStatus',
      'resources',
    ],
    path,
  );
  const reportId = requiredString(report, 'reportId', `${path}.reportId`, 36);
  if (!UUID.test(reportId)) throw invalidContent(`${path}.reportId`, 'must be a UUID');
  const evaluationRequest = field(report, 'evaluationRequest');
  if (
    typeof evaluationRequest !== 'number' ||
    !Number.isSafeInteger(evaluationRequest) ||
    evaluationRequest < 0
  ) {
    throw invalidContent(`${path}.evaluationRequest`, 'must be a whole number, 0 or more');
  }
  const startTime = timeOf(report, 'startTime', path);
  const endTime = timeOf(report, 'endTime', path);
  if (endTime < startTime) throw invalidContent(`${path}.endTime`, 'must not be before startTime');
  const resources = field(report, 'resources');
  if (!Array.isArray(resources) || resources.length > MAX_RESOURCES) {
    throw invalidContent(
      `${path}.resources`,
      `must be a list of at most ${MAX_RESOURCES} rule results`,
    );
  }
  return {
    assignmentName: requiredString(report, 'assignmentName', `${path}.assignmentName`, 128),
    reportId: reportId.toLowerCase(),
    configurationName: requiredString(
      report,
      'configurationName',
      `${path}.configurationName`,
      128,
    ),
    version: requiredString(report, 'version', `${path}.version`, 64),
    evaluationRequest,
    startTime,
    endTime,
    operationType: oneOf(report, 'operationType', OPERATIONS, path),
    complianceStatus: oneOf(report, 'complianceStatus', STATUSES, path),
    resources: resources.map((r, i) => {
      const at = `${path}.resources[${i}]`;
      const resource = asObject(r, at);
      rejectUnknownFields(resource, ['resourceId', 'complianceStatus', 'reasons'], at);
      const reasons = field(resource, 'reasons');
      if (!Array.isArray(reasons) || reasons.length > MAX_REASONS) {
        throw invalidContent(`${at}.reasons`, `must be a list of at most ${MAX_REASONS} reasons`);
      }
      return {
        resourceId: requiredString(resource, 'resourceId', `${at}.resourceId`, 128),
        complianceStatus: oneOf(resource, 'complianceStatus', STATUSES, at),
        reasons: reasons.map((reason, j) => {
          const where = `${at}.reasons[${j}]`;
          const object = asObject(reason, where);
          rejectUnknownFields(object, ['code', 'phrase'], where);
          return {
            code: requiredString(object, 'code', `${where}.code`, 128),
            phrase: requiredString(object, 'phrase', `${where}.phrase`, 2048),
          };
        }),
      };
    }),
  };
}

function timeOf(object: JsonObject, name: string, path: string): string {
  const value = requiredString(object, name, `${path}.${name}`, 40);
  const time = Date.parse(value);
  if (!/^\d{4}-\d\d-\d\dT/.test(value) || Number.isNaN(time)) {
    throw invalidContent(`${path}.${name}`, `is '${value}'; use an ISO-8601 UTC time`);
  }
  return new Date(time).toISOString();
}

function oneOf<T extends string>(
  object: JsonObject,
  name: string,
  allowed: readonly T[],
  path: string,
): T {
  const value = requiredString(object, name, `${path}.${name}`, 64);
  const found = allowed.find((a) => a === value);
  if (found === undefined) {
    throw invalidContent(`${path}.${name}`, `is '${value}'; accepted: ${allowed.join(', ')}`);
  }
  return found;
}
