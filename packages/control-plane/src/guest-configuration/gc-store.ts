// Guest configuration assignments, their reports and each machine's goal-state generation in
// the database. Every change to a machine's assignments bumps its generation.
import type { Kysely } from 'kysely';
import type { Database, GuestConfigurationAssignmentsTable } from '../store/schema.js';
import type { GcAssignmentRow, GcReportRow } from './gc-assignment-resource.js';

export type Db = Kysely<Database>;

export async function findGcAssignment(db: Db, id: string): Promise<GcAssignmentRow | undefined> {
  return db
    .selectFrom('guest_configuration_assignments')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
}

export async function machineGcAssignments(db: Db, machineId: string): Promise<GcAssignmentRow[]> {
  return db
    .selectFrom('guest_configuration_assignments')
    .selectAll()
    .where('machine_id', '=', machineId)
    .orderBy('id')
    .execute();
}

export interface GcListScope {
  subscriptionId: string;
  resourceGroup?: string;
  machineId?: string;
}

/** One page (plus one row, to tell whether more follow) of a scope's assignments, by id. */
export async function listGcAssignments(
  db: Db,
  scope: GcListScope,
  after: string | undefined,
  limit: number,
): Promise<GcAssignmentRow[]> {
  let query = db
    .selectFrom('guest_configuration_assignments')
    .selectAll()
    .where('subscription_id', '=', scope.subscriptionId.toLowerCase());
  if (scope.resourceGroup !== undefined)
    query = query.where('resource_group', '=', scope.resourceGroup.toLowerCase());
  if (scope.machineId !== undefined) query = query.where('machine_id', '=', scope.machineId);
  if (after !== undefined) query = query.where('id', '>', after);
  return query.orderBy('id').limit(limit).execute();
}

export async function putGcAssignment(
  db: Db,
  row: GuestConfigurationAssignmentsTable,
): Promise<void> {
  const changes: Partial<GuestConfigurationAssignmentsTable> = { ...row };
  delete changes.id;
  delete changes.created_at;
  await db
    .insertInto('guest_configuration_assignments')
    .values(row)
    .onConflict((oc) => oc.column('id').doUpdateSet(changes))
    .execute();
}

/** Removes the assignment and its reports. */
export async function deleteGcAssignment(db: Db, id: string): Promise<void> {
  await db.deleteFrom('guest_configuration_reports').where('assignment_id', '=', id).execute();
  await db.deleteFrom('guest_configuration_assignments').where('id', '=', id).execute();
}

export async function latestReports(
  db: Db,
  assignmentIds: readonly string[],
): Promise<Map<string, GcReportRow>> {
  if (assignmentIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('guest_configuration_assignments as a')
    .innerJoin('guest_configuration_reports as r', (join) =>
      join.onRef('r.assignment_id', '=', 'a.id').onRef('r.report_id', '=', 'a.latest_report_id'),
    )
    .selectAll('r')
    .where('a.id', 'in', [...assignmentIds])
    .execute();
  return new Map(rows.map((r) => [r.assignment_id, r]));
}

/** The assignment's reports, newest first. */
export async function gcReports(db: Db, assignmentId: string): Promise<GcReportRow[]> {
  return db
    .selectFrom('guest_configuration_reports')
    .selectAll()
    .where('assignment_id', '=', assignmentId)
    .orderBy('end_time', 'desc')
    .orderBy('report_id')
    .execute();
}

export async function gcReport(
  db: Db,
  assignmentId: string,
  reportId: string,
): Promise<GcReportRow | undefined> {
  return db
    .selectFrom('guest_configuration_reports')
    .selectAll()
    .where('assignment_id', '=', assignmentId)
    .where('report_id', '=', reportId.toLowerCase())
    .executeTakeFirst();
}

export interface GcMachineState {
  generation: number;
  evaluationRequest: number;
  disabledReason: string | null;
  reconciledFor: string | null;
  /** The heartbeat says guest configuration is off or in monitor mode. */
  switchedOff: boolean;
}

export async function gcMachineState(db: Db, machineId: string): Promise<GcMachineState> {
  const row = await db
    .selectFrom('guest_configuration_machines')
    .selectAll()
    .where('machine_id', '=', machineId)
    .executeTakeFirst();
  return {
    generation: row?.generation ?? 0,
    evaluationRequest: row?.evaluation_request ?? 0,
    disabledReason: row?.disabled_reason ?? null,
    reconciledFor: row?.reconciled_for ?? null,
    switchedOff: (row?.switched_off ?? 0) !== 0,
  };
}

export async function updateGcMachine(
  db: Db,
  machineId: string,
  change: {
    bumpGeneration?: boolean;
    bumpEvaluation?: boolean;
    disabledReason?: string | null;
    reconciledFor?: string;
    switchedOff?: boolean;
  },
): Promise<void> {
  const current = await gcMachineState(db, machineId);
  const next = {
    generation: current.generation + (change.bumpGeneration === true ? 1 : 0),
    evaluation_request: current.evaluationRequest + (change.bumpEvaluation === true ? 1 : 0),
    disabled_reason:
      change.disabledReason === undefined ? current.disabledReason : change.disabledReason,
    reconciled_for: change.reconciledFor ?? current.reconciledFor,
    switched_off: (change.switchedOff ?? current.switchedOff) ? 1 : 0,
  };
  await db
    .insertInto('guest_configuration_machines')
    .values({ machine_id: machineId, ...next })
    .onConflict((oc) => oc.column('machine_id').doUpdateSet(next))
    .execute();
}
