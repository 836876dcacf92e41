// The machines list's filters and sorts as they were first written, over every machine in memory:
// the oracle the SQL of the list (machine-reader.ts, machine-list-sql.ts) is checked against.
import type { MachineAgentsTable, MachinesTable } from '../../store/schema.js';
import { deriveMachineStatus, type MachineStatus } from '../../machines/machine-status.js';
import type { MachineTimings } from '../../machines/machine-timings.js';
import type { MachineFilter, MachineListQuery, MachineSortField } from '../machine-list-query.js';

/** One machine as the query sees it: what it is filtered and sorted by. */
export interface MachineListEntry {
  id: string;
  name: string;
  resourceGroup: string;
  status: MachineStatus;
  osType: string;
  osName: string;
  lastStatusChange: string;
  tags: Readonly<Record<string, string>>;
}

/** What a query weighs a machine by, from its row, its agent's row (if any) and the time. */
export function listEntryOf(
  row: MachinesTable,
  agent: MachineAgentsTable | undefined,
  now: number,
  timings: Pick<MachineTimings, 'disconnectAfterMs' | 'expireAfterMs'>,
): MachineListEntry {
  const derived =
    agent === undefined
      ? undefined
      : deriveMachineStatus(
          {
            onboardedAt: Date.parse(agent.onboarded_at),
            lastHeartbeatAt: timeOf(agent.last_heartbeat_at),
            connectedSince: timeOf(agent.connected_since),
            credentialExpiresAt: Date.parse(agent.credential_expires_at),
            revokedAt: timeOf(agent.revoked_at),
          },
          now,
          timings,
        );
  const properties = parseObject(row.properties);
  const report = parseObject(agent?.report ?? '{}');
  const text = (key: string): string => {
    const value = report[key] ?? properties[key];
    return typeof value === 'string' ? value : '';
  };
  return {
    id: row.id,
    name: row.name,
    resourceGroup: row.resource_group,
    status: derived?.status ?? 'Disconnected',
    osType: text('osType'),
    osName: text('osName'),
    lastStatusChange:
      derived === undefined ? row.created_at : new Date(derived.lastStatusChange).toISOString(),
    tags: parseObject(row.tags) as Record<string, string>,
  };
}

export function matchesFilter(entry: MachineListEntry, filter: MachineFilter): boolean {
  if (filter.status !== undefined && entry.status !== filter.status) return false;
  if (filter.resourceGroup !== undefined && entry.resourceGroup !== filter.resourceGroup)
    return false;
  if (filter.osType !== undefined && entry.osType.toLowerCase() !== filter.osType) return false;
  if (filter.nameContains !== undefined && !entry.name.toLowerCase().includes(filter.nameContains))
    return false;
  if (filter.tagName !== undefined) {
    const key = Object.keys(entry.tags).find(
      (k) => k.toLowerCase() === filter.tagName?.toLowerCase(),
    );
    if (key === undefined) return false;
    if (filter.tagValue !== undefined && entry.tags[key] !== filter.tagValue) return false;
  }
  return true;
}

/** Sorted by the field asked for, ties by id, so pages never repeat or skip a machine. */
export function compareEntries(
  orderBy: MachineListQuery['orderBy'],
): (a: MachineListEntry, b: MachineListEntry) => number {
  const sign = orderBy.descending ? -1 : 1;
  return (a, b) => {
    const left = sortValue(a, orderBy.field);
    const right = sortValue(b, orderBy.field);
    const order = left < right ? -1 : left > right ? 1 : 0;
    return order !== 0 ? sign * order : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  };
}

function sortValue(entry: MachineListEntry, field: MachineSortField): string {
  switch (field) {
    case 'name':
      return entry.name.toLowerCase();
    case 'resourceGroup':
      return entry.resourceGroup;
    case 'status':
      return entry.status;
    case 'osName':
      return entry.osName.toLowerCase();
    case 'lastStatusChange':
      return entry.lastStatusChange;
  }
}

function timeOf(value: string | null): number | undefined {
  return value === null ? undefined : Date.parse(value);
}

function parseObject(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}
