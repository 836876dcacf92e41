// The activity log kept in the control plane's database: every write and every denied write,
// recorded before the answer goes out, and read back by subscription and time range (B4).
import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { ActivityEvent, ActivityLog } from '../api/activity-log.js';
import { ArmError } from '../api/arm-error.js';
import { callerDisplayNames } from '../directory/caller-display-names.js';
import type { Clock } from '../clock.js';
import { likeBelow } from '../resources/sql-like.js';
import { GroupCommit, type Write } from '../store/group-commit.js';
import { preparedQuery } from '../store/prepared-query.js';
import type { ActivityLogTable, Database } from '../store/schema.js';

export const DEFAULT_ACTIVITY_PAGE_SIZE = 200;
export const MAX_ACTIVITY_PAGE_SIZE = 1000;

export interface ActivityQuery {
  subscriptionId: string;
  /** Inclusive bounds, milliseconds since the epoch. */
  from: number;
  to: number;
  resourceGroup?: string;
  /** The resource and everything below it (a machine and its extensions). */
  resourceUri?: string;
  pageSize?: number;
  skipToken?: string;
}

/** One event as the ARM activity log (`Microsoft.Insights` EventData) shows it. */
export interface ActivityEventData {
  eventDataId: string;
  correlationId: string;
  caller: string;
  /**
   * Who `caller` is, in words: the principal's display name, a machine identity's machine name;
   * null once the principal is deleted. Read when the log is, so a rename shows everywhere.
   */
  callerDisplayName: string | null;
  operationName: { value: string; localizedValue: string };
  status: { value: string; localizedValue: string };
  subStatus: { value: string; localizedValue: string };
  category: { value: 'Administrative'; localizedValue: 'Administrative' };
  level: 'Informational' | 'Error';
  resourceId: string;
  resourceGroupName: string | null;
  subscriptionId: string | null;
  eventTimestamp: string;
  submissionTimestamp: string;
  httpRequest: { method: string; clientIpAddress: string };
  properties: Record<string, unknown>;
}

export interface ActivityPage {
  value: ActivityEventData[];
  /** Present when more events match; pass it back as `skipToken`. */
  skipToken: string | undefined;
}

const ACTIVITY_COLUMNS = [
  'event_data_id',
  'correlation_id',
  'caller',
  'operation_name',
  'status',
  'sub_status',
  'resource_id',
  'subscription_id',
  'resource_group',
  'http_method',
  'client_ip',
  'event_timestamp',
  'properties',
] as const satisfies readonly (keyof ActivityLogTable)[];

/** Every write is recorded: the insert is compiled once. */
const insertEvent = preparedQuery(
  ACTIVITY_COLUMNS.length,
  (db: Kysely<Database>, ...values: ActivityLogTable[keyof ActivityLogTable][]) =>
    db
      .insertInto('activity_log')
      .values(
        Object.fromEntries(
          ACTIVITY_COLUMNS.map((c, i) => [c, values[i]]),
        ) as unknown as ActivityLogTable,
      ),
);

export class SqlActivityLog implements ActivityLog {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  /**
   * Resolves only once the event is committed: an acknowledged write is always on record. The
   * events of concurrent requests share one commit.
   */
  async record(event: ActivityEvent): Promise<void> {
    const values = this.valuesOf(event);
    await GroupCommit.of(this.db).run(async (trx) => {
      await insertEvent.run(trx, ...values);
    });
  }

  async recordWith(event: ActivityEvent | undefined, write: Write): Promise<void> {
    const values = event === undefined ? undefined : this.valuesOf(event);
    await GroupCommit.of(this.db).run(async (trx) => {
      await write(trx);
      if (values !== undefined) await insertEvent.run(trx, ...values);
    });
  }

  private valuesOf(event: ActivityEvent): ActivityLogTable[keyof ActivityLogTable][] {
    const row = activityLogRow(event, randomUUID(), new Date(this.clock.now()).toISOString());
    return ACTIVITY_COLUMNS.map((column) => row[column]);
  }

  /** Newest first, paged by a token that marks where the previous page ended. */
  async query(query: ActivityQuery): Promise<ActivityPage> {
    const pageSize = Math.min(query.pageSize ?? DEFAULT_ACTIVITY_PAGE_SIZE, MAX_ACTIVITY_PAGE_SIZE);
    let select = this.db
      .selectFrom('activity_log')
      .selectAll()
      .where('subscription_id', '=', query.subscriptionId.toLowerCase())
      .where('event_timestamp', '>=', new Date(query.from).toISOString())
      .where('event_timestamp', '<=', new Date(query.to).toISOString());
    if (query.resourceGroup !== undefined) {
      select = select.where('resource_group', '=', query.resourceGroup.toLowerCase());
    }
    if (query.resourceUri !== undefined) {
      const uri = query.resourceUri.toLowerCase().replace(/\/+$/, '');
      const below = likeBelow(uri);
      select = select.where((eb) =>
        eb.or([eb('resource_id', '=', uri), sql<boolean>`resource_id like ${below} escape '\\'`]),
      );
    }
    if (query.skipToken !== undefined) {
      const after = decodeSkipToken(query.skipToken);
      select = select.where((eb) =>
        eb.or([
          eb('event_timestamp', '<', after.timestamp),
          eb.and([eb('event_timestamp', '=', after.timestamp), eb('event_data_id', '<', after.id)]),
        ]),
      );
    }
    const rows = await select
      .orderBy('event_timestamp', 'desc')
      .orderBy('event_data_id', 'desc')
      .limit(pageSize + 1)
      .execute();
    const page = rows.slice(0, pageSize);
    const last = page.at(-1);
    const more = rows.length > pageSize && last !== undefined;
    const names = await callerDisplayNames(
      this.db,
      page.map((row) => row.caller),
    );
    return {
      value: page.map((row) => toEventData(row, names.get(row.caller) ?? null)),
      skipToken: more ? encodeSkipToken(last.event_timestamp, last.event_data_id) : undefined,
    };
  }
}

/** The stored row of an event; `id` is its eventDataId. */
export function activityLogRow(
  event: ActivityEvent,
  id: string,
  timestamp: string,
): ActivityLogTable {
  const resourceId = event.resourceId.toLowerCase();
  return {
    event_data_id: id,
    correlation_id: event.correlationId,
    caller: event.caller,
    operation_name: event.operationName,
    status: event.status,
    sub_status: event.subStatus,
    resource_id: resourceId,
    subscription_id: segmentAfter(resourceId, 'subscriptions'),
    resource_group: segmentAfter(resourceId, 'resourcegroups'),
    http_method: event.httpMethod,
    client_ip: event.clientIp,
    event_timestamp: timestamp,
    properties: JSON.stringify(event.properties ?? {}),
  };
}

function segmentAfter(resourceId: string, key: string): string | null {
  const segments = resourceId.split('/');
  const at = segments.indexOf(key);
  const value = at < 0 ? undefined : segments[at + 1];
  return value === undefined || value === '' ? null : value;
}

function localizable<T extends string>(value: T): { value: T; localizedValue: T } {
  return { value, localizedValue: value };
}

function toEventData(row: ActivityLogTable, callerDisplayName: string | null): ActivityEventData {
  return {
    eventDataId: row.event_data_id,
    correlationId: row.correlation_id,
    caller: row.caller,
    callerDisplayName,
    operationName: localizable(row.operation_name),
    status: localizable(row.status),
    subStatus: localizable(row.sub_status),
    category: localizable('Administrative'),
    level: row.status === 'Failed' ? 'Error' : 'Informational',
    resourceId: row.resource_id,
    resourceGroupName: row.resource_group,
    subscriptionId: row.subscription_id,
    eventTimestamp: row.event_timestamp,
    submissionTimestamp: row.event_timestamp,
    httpRequest: { method: row.http_method, clientIpAddress: row.client_ip },
    properties: JSON.parse(row.properties) as Record<string, unknown>,
  };
}

function encodeSkipToken(timestamp: string, id: string): string {
  return Buffer.from(JSON.stringify([timestamp, id])).toString('base64url');
}

function decodeSkipToken(token: string): { timestamp: string; id: string } {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (
      Array.isArray(parsed) &&
      parsed.length === 2 &&
      typeof parsed[0] === 'string' &&
      typeof parsed[1] === 'string'
    ) {
      return { timestamp: parsed[0], id: parsed[1] };
    }
  } catch {
    // Falls through to the error below: a token we did not issue.
  }
  throw new ArmError(
    'BadRequest',
    `The $skiptoken '${token.slice(0, 80)}' is not valid; pass back the one from the previous page's nextLink.`,
    { target: '$skiptoken' },
  );
}
