// Storing uploaded reports: once per reportId, the newest one becoming the assignment's latest,
// and history older than REPORT_RETENTION_DAYS pruned (the latest is always kept).
import type { GuestConfigurationAssignmentReport } from '@tether/protocol';
import { gcAssignmentIdOf } from './gc-assignment-resource.js';
import { findGcAssignment, type Db } from './gc-store.js';

export const REPORT_RETENTION_DAYS = 35;
const DAY_MS = 24 * 60 * 60 * 1000;

/** Returns how many reports were new. Reports of assignments the machine no longer has are dropped. */
export async function storeReports(
  db: Db,
  machineId: string,
  reports: readonly GuestConfigurationAssignmentReport[],
  receivedAt: string,
  now: number,
): Promise<number> {
  let accepted = 0;
  for (const report of reports) {
    const assignmentId = gcAssignmentIdOf(machineId, report.assignmentName);
    const assignment = await findGcAssignment(db, assignmentId);
    // A report for what the assignment was before its last change says nothing about it now.
    if (
      assignment === undefined ||
      assignment.configuration_name.toLowerCase() !== report.configurationName.toLowerCase() ||
      assignment.configuration_version !== report.version
    ) {
      continue;
    }
    const inserted = await db
      .insertInto('guest_configuration_reports')
      .values({
        assignment_id: assignmentId,
        report_id: report.reportId,
        machine_id: machineId,
        start_time: report.startTime,
        end_time: report.endTime,
        compliance_status: report.complianceStatus,
        operation_type: report.operationType,
        resources: JSON.stringify(report.resources),
        received_at: receivedAt,
      })
      .onConflict((oc) => oc.columns(['assignment_id', 'report_id']).doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) continue;
    accepted++;
    if (assignment.last_checked === null || assignment.last_checked <= report.endTime) {
      await db
        .updateTable('guest_configuration_assignments')
        .set({
          compliance_status: report.complianceStatus,
          last_checked: report.endTime,
          latest_report_id: report.reportId,
        })
        .where('id', '=', assignmentId)
        .execute();
    }
    const cutoff = new Date(now - REPORT_RETENTION_DAYS * DAY_MS).toISOString();
    await db
      .deleteFrom('guest_configuration_reports')
      .where('assignment_id', '=', assignmentId)
      .where('end_time', '<', cutoff)
      .where('report_id', '!=', report.reportId)
      .execute();
  }
  return accepted;
}
