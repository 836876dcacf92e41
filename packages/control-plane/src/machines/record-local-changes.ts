// A machine's local configuration changes, reported with its heartbeat, become activity-log
// events for that machine: once each, keyed on the machine identity, the journal and the change's
// sequence. A journal created afresh numbers from 1 again and is recognised by its new id.
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { HeartbeatLocalChanges } from './heartbeat-body.js';
import { activityLogRow } from '../activity/sql-activity-log.js';
import { ArmError } from '../api/arm-error.js';
import type { Caller } from '../api/caller.js';
import type { Database } from '../store/schema.js';

export const LOCAL_CONFIGURATION_WRITE =
  'Microsoft.HybridCompute/machines/localConfiguration/write';

export interface LocalChangeReport {
  readonly machineId: string;
  readonly caller: Caller;
  readonly correlationId: string;
  readonly clientIp: string;
  /** When the control plane received them (the events' timestamp); each keeps its local time. */
  readonly receivedAt: string;
}

/**
 * Stores the changes not stored before and returns the highest sequence stored, which the
 * heartbeat answer acknowledges. Only the machine's own identity reports its local changes.
 */
export async function recordLocalChanges(
  db: Kysely<Database>,
  report: LocalChangeReport,
  { journal, changes }: HeartbeatLocalChanges,
): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const agent = await trx
      .selectFrom('machine_agents')
      .select('principal_id')
      .where('machine_id', '=', report.machineId)
      .executeTakeFirst();
    if (agent === undefined || agent.principal_id !== report.caller.principalId) {
      throw new ArmError(
        'AuthorizationFailed',
        `Only the machine's own identity reports the changes made on it; '${report.caller.name}' is not the identity of '${report.machineId.split('/').pop() ?? ''}'. Send the heartbeat without localChanges.`,
        { target: 'localChanges' },
      );
    }
    const principalId = agent.principal_id;
    const mark = await trx
      .selectFrom('machine_local_changes')
      .select(['acknowledged', 'journal_id'])
      .where('principal_id', '=', principalId)
      .executeTakeFirst();
    // Another journal (the old one deleted, its numbering started again): nothing of it is stored.
    const acknowledged = mark?.journal_id === journal ? Number(mark.acknowledged) : 0;
    const fresh = changes.filter((change) => change.sequence > acknowledged);
    const last = fresh.at(-1);
    if (last === undefined) return acknowledged;
    const rows = fresh.map((change) =>
      activityLogRow(
        {
          correlationId: report.correlationId,
          caller: report.caller.name,
          operationName: LOCAL_CONFIGURATION_WRITE,
          status: 'Succeeded',
          subStatus: 'OK',
          resourceId: report.machineId,
          httpMethod: 'POST',
          clientIp: report.clientIp,
          properties: {
            localUserId: change.uid,
            ...(change.userName === undefined ? {} : { localUserName: change.userName }),
            ...(change.sudoUid === undefined ? {} : { sudoUserId: change.sudoUid }),
            property: change.property,
            oldValue: change.oldValue,
            newValue: change.newValue,
            localTime: change.time,
            sequence: change.sequence,
            ...(journal === '' ? {} : { journalId: journal }),
          },
        },
        eventId(principalId, journal, change.sequence),
        report.receivedAt,
      ),
    );
    // A heartbeat retried while the first is still being stored reaches here too: the same
    // event ids make its rows no-ops.
    await trx
      .insertInto('activity_log')
      .values(rows)
      .onConflict((oc) => oc.column('event_data_id').doNothing())
      .execute();
    await trx
      .insertInto('machine_local_changes')
      .values({
        principal_id: principalId,
        machine_id: report.machineId,
        journal_id: journal,
        acknowledged: last.sequence,
      })
      .onConflict((oc) =>
        oc
          .column('principal_id')
          .doUpdateSet({ acknowledged: last.sequence, journal_id: journal })
          .where((eb) =>
            eb.or([
              eb('machine_local_changes.journal_id', '!=', journal),
              eb('machine_local_changes.acknowledged', '<', last.sequence),
            ]),
          ),
      )
      .execute();
    return last.sequence;
  });
}

/** A UUID-shaped id that is the same whenever the same identity reports the same change. */
function eventId(principalId: string, journal: string, sequence: number): string {
  // A journal without an id keeps the ids its changes were first stored under.
  const key =
    journal === '' ? `${principalId}\n${sequence}` : `${principalId}\n${journal}\n${sequence}`;
  const hex = createHash('sha256').update(`local-change\n${key}`).digest('hex');
  const variant = ((parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
