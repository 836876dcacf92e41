// What a machine's GET and list show from its agent: the derived status and the facts,
// service statuses and agentConfiguration of its last heartbeat (read-only through the API: S7).
import type { Kysely, Selectable } from 'kysely';
import type { Database, MachineAgentsTable } from '../store/schema.js';
import { lastHeartbeatSql } from './liveness-log.js';
import { deriveMachineStatus, type MachineStatus } from './machine-status.js';
import type { MachineTimings } from './machine-timings.js';

export interface MachineAgentView {
  status: MachineStatus;
  lastStatusChange: string;
  /** When the last heartbeat arrived; absent before the first one. */
  lastHeartbeat: string | undefined;
  /** The last heartbeat's properties, absent before the first one. */
  report: Record<string, unknown> | undefined;
}

/** The columns of an agent's row its status and report are derived from. */
export type AgentStatusRow = Pick<
  Selectable<MachineAgentsTable>,
  | 'onboarded_at'
  | 'last_heartbeat_at'
  | 'connected_since'
  | 'credential_expires_at'
  | 'revoked_at'
  | 'report'
>;

export function agentViewOf(
  row: AgentStatusRow,
  now: number,
  timings: Pick<MachineTimings, 'disconnectAfterMs' | 'expireAfterMs'>,
): MachineAgentView {
  const derived = deriveMachineStatus(
    {
      onboardedAt: Date.parse(row.onboarded_at),
      lastHeartbeatAt: timeOf(row.last_heartbeat_at),
      connectedSince: timeOf(row.connected_since),
      credentialExpiresAt: Date.parse(row.credential_expires_at),
      revokedAt: timeOf(row.revoked_at),
    },
    now,
    timings,
  );
  return {
    status: derived.status,
    lastStatusChange: new Date(derived.lastStatusChange).toISOString(),
    lastHeartbeat: row.last_heartbeat_at ?? undefined,
    report: row.report === null ? undefined : (JSON.parse(row.report) as Record<string, unknown>),
  };
}

/** The agent views of the machines `ids`, by machine id; machines without an identity have none. */
export async function agentViews(
  db: Kysely<Database>,
  ids: readonly string[],
  now: number,
  timings: Pick<MachineTimings, 'disconnectAfterMs' | 'expireAfterMs'>,
): Promise<Map<string, MachineAgentView>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('machine_agents')
    .select([
      'machine_id',
      'onboarded_at',
      lastHeartbeatSql().as('last_heartbeat_at'),
      'connected_since',
      'credential_expires_at',
      'revoked_at',
      'report',
    ])
    .where('machine_id', 'in', ids)
    .execute();
  return new Map(rows.map((r) => [r.machine_id, agentViewOf(r, now, timings)]));
}

function timeOf(value: string | null): number | undefined {
  return value === null ? undefined : Date.parse(value);
}
