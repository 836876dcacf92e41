// The reports of a guest configuration assignment, newest first: the history of when each rule
// started failing and when it was fixed, kept at least REPORT_RETENTION_DAYS.
import type { RouteSpec } from '../api/route-spec.js';
import { ArmError } from '../api/arm-error.js';
import { requireMachine } from '../extensions/extension-target.js';
import { param } from '../resources/arm-request.js';
import { GC_ACTIONS, GC_API_VERSIONS, renderGcReport } from './gc-assignment-resource.js';
import {
  GC_ASSIGNMENT_PATH,
  gcAssignmentAt,
  gcAssignmentNotFound,
  gcTargetOf,
  type GcServices,
  type GcTarget,
} from './gc-services.js';
import { findGcAssignment, gcReport, gcReports } from './gc-store.js';

export function gcReportRoutes(services: GcServices): RouteSpec[] {
  const { db } = services;
  const common = { apiVersions: GC_API_VERSIONS };
  const assignmentOf = async (target: GcTarget) => {
    const row = await findGcAssignment(db, target.assignmentId);
    if (row !== undefined) return row;
    await requireMachine(db, target);
    throw gcAssignmentNotFound(target);
  };
  return [
    {
      ...common,
      method: 'GET',
      url: `${GC_ASSIGNMENT_PATH}/reports`,
      access: { kind: 'action', action: GC_ACTIONS.read, scope: gcAssignmentAt },
      async handler({ request }) {
        const target = gcTargetOf(request);
        const assignment = await assignmentOf(target);
        const rows = await gcReports(db, target.assignmentId);
        return { value: rows.map((r) => renderGcReport(r, assignment, assignment.machine_id)) };
      },
    },
    {
      ...common,
      method: 'GET',
      url: `${GC_ASSIGNMENT_PATH}/reports/:reportId`,
      access: { kind: 'action', action: GC_ACTIONS.read, scope: gcAssignmentAt },
      async handler({ request }) {
        const target = gcTargetOf(request);
        const assignment = await assignmentOf(target);
        const reportId = param(request, 'reportId');
        const row = await gcReport(db, target.assignmentId, reportId);
        if (row === undefined) {
          throw new ArmError(
            'ResourceNotFound',
            `The guest configuration assignment '${assignment.name}' has no report '${reportId.slice(0, 80)}'; list its reports to see which it has.`,
          );
        }
        return renderGcReport(row, assignment, assignment.machine_id);
      },
    },
  ];
}
