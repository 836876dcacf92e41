// Reads machines with what their ARM shape needs besides the row: the resource group's own
// spelling and the machine's managed identity; and pages of them filtered and sorted in SQL.
import { sql, type CompiledQuery, type Kysely } from 'kysely';
import type { Caller } from '../api/caller.js';
import type { AgentStatusRow } from '../machines/machine-agent-view.js';
import type { MachineStatus } from '../machines/machine-status.js';
import type { MachineSortField } from './machine-list-query.js';
import { machineListSql, type MachineListSql } from './machine-list-sql.js';
import type { MachineTimings } from '../machines/machine-timings.js';
import type { Database, MachinesTable } from '../store/schema.js';
import { WriteGuardedCache, writeGenerationOf } from '../store/write-generation.js';
import { lastHeartbeatSql } from '../machines/liveness-log.js';
import { resourceGroupScope } from './arm-scope.js';
import type { MachineView } from './machine-resource.js';

type FoundRow = MachinesTable & {
  group_name: string | null;
  identity_id: string | null;
  agent_onboarded_at: string | null;
  agent_last_heartbeat_at: string | null;
  agent_connected_since: string | null;
  agent_credential_expires_at: string | null;
  agent_revoked_at: string | null;
  agent_report: string | null;
};

/** A machine as find() reads it: its view and, when it has an agent, the agent's row. */
export interface FoundMachine {
  view: MachineView;
  agent: AgentStatusRow | undefined;
}

/** What find() reads from the store, before the caller's tenant is added. */
interface StoredMachine {
  row: MachinesTable;
  resourceGroupName: string;
  identityPrincipalId: string | undefined;
  agent: AgentStatusRow | undefined;
}

/**
 * The agent's columns every read of a machine with its agent selects, as `agent_…`; the last
 * heartbeat includes the liveness log's unfolded entries.
 */
const AGENT_COLUMNS = [
  'machine_agents.onboarded_at as agent_onboarded_at',
  lastHeartbeatSql().as('agent_last_heartbeat_at'),
  'machine_agents.connected_since as agent_connected_since',
  'machine_agents.credential_expires_at as agent_credential_expires_at',
  'machine_agents.revoked_at as agent_revoked_at',
] as const;

type AgentColumns = Pick<
  FoundRow,
  | 'agent_onboarded_at'
  | 'agent_last_heartbeat_at'
  | 'agent_connected_since'
  | 'agent_credential_expires_at'
  | 'agent_revoked_at'
  | 'agent_report'
>;

/** The row without its `agent_…` columns, and the agent's row (undefined when it has none). */
function splitAgent<T extends AgentColumns>(
  found: T,
): { row: Omit<T, keyof AgentColumns>; agent: AgentStatusRow | undefined } {
  const {
    agent_onboarded_at,
    agent_last_heartbeat_at,
    agent_connected_since,
    agent_credential_expires_at,
    agent_revoked_at,
    agent_report,
    ...row
  } = found;
  // Both columns are NOT NULL in machine_agents, so null means the join found no agent.
  const agent =
    agent_onboarded_at === null || agent_credential_expires_at === null
      ? undefined
      : {
          onboarded_at: agent_onboarded_at,
          last_heartbeat_at: agent_last_heartbeat_at,
          connected_since: agent_connected_since,
          credential_expires_at: agent_credential_expires_at,
          revoked_at: agent_revoked_at,
          report: agent_report,
        };
  return { row, agent };
}

/** What a page of machines is chosen by; each of these runs in SQL. */
export interface MachinePageQuery {
  subscriptionId: string;
  resourceGroup: string | undefined;
  nameContains: string | undefined;
  status: MachineStatus | undefined;
  /** Lower-case; matched against the OS type as the resource shows it, in any case. */
  osType: string | undefined;
  tagName: string | undefined;
  /** With tagName: that tag's value, exactly. */
  tagValue: string | undefined;
  orderBy: { field: MachineSortField; descending: boolean };
  offset: number;
  limit: number;
  /** The moment the status is derived at, in ms. */
  now: number;
  timings: Pick<MachineTimings, 'disconnectAfterMs' | 'expireAfterMs'>;
}

/** Status in the order a sort by it lists: Connected, Disconnected, Expired. */
const STATUS_RANK: Readonly<Record<MachineStatus, number>> = {
  Connected: 0,
  Disconnected: 1,
  Expired: 2,
};

/**
 * The status deriveMachineStatus() gives, as SQL over the agent's times (ISO strings, which
 * compare as the times do) and the moment asked: 0 Connected, 1 Disconnected, 2 Expired. A
 * machine without an agent counts as Disconnected, as its resource says.
 */
function statusRank(now: number, timings: MachinePageQuery['timings']) {
  const at = new Date(now).toISOString();
  const expiredBefore = new Date(now - timings.expireAfterMs).toISOString();
  const disconnectedBefore = new Date(now - timings.disconnectAfterMs).toISOString();
  const last = lastHeartbeatSql();
  return sql<number>`case
    when machine_agents.machine_id is null then 1
    when coalesce(${last}, machine_agents.onboarded_at) <= ${expiredBefore}
      or machine_agents.credential_expires_at <= ${at}
      or machine_agents.revoked_at <= ${at} then 2
    when coalesce(${last}, ${disconnectedBefore}) <= ${disconnectedBefore} then 1
    else 0 end`;
}

/**
 * When deriveMachineStatus() says the status last changed, as SQL giving the ISO time: the
 * machine's creation without an agent; the end of its life (silence, the key's expiry or a
 * revocation, whichever came first) once Expired; its onboarding before any heartbeat; the end of
 * the silence allowed once Disconnected; the start of its run of heartbeats while Connected.
 */
function lastStatusChange(list: MachineListSql, now: number, timings: MachinePageQuery['timings']) {
  const at = new Date(now).toISOString();
  // The last heartbeat is read once per machine (it looks in the liveness log), then named.
  const last = sql<string | null>`heartbeat.at`;
  const lastContact = sql<string>`coalesce(${last}, machine_agents.onboarded_at)`;
  const endOfLife = list.earliest(
    list.later(lastContact, timings.expireAfterMs),
    sql<string>`machine_agents.credential_expires_at`,
    sql<string>`coalesce(machine_agents.revoked_at, '9999-12-31T23:59:59.999Z')`,
  );
  const expiredBefore = new Date(now - timings.expireAfterMs).toISOString();
  const disconnectedBefore = new Date(now - timings.disconnectAfterMs).toISOString();
  // Each condition compares stored times only (as statusRank does): the arithmetic runs just for
  // the machines whose branch needs it.
  return sql<string>`(select case
    when machine_agents.machine_id is null then machines.created_at
    when ${lastContact} <= ${expiredBefore}
      or machine_agents.credential_expires_at <= ${at}
      or machine_agents.revoked_at <= ${at} then ${endOfLife}
    when ${last} is null then machine_agents.onboarded_at
    when ${last} <= ${disconnectedBefore} then ${list.later(last, timings.disconnectAfterMs)}
    else coalesce(machine_agents.connected_since, ${last}) end
    from (select ${lastHeartbeatSql()} as at) as heartbeat)`;
}

/** Placeholders the one-time compiled find query is filled in at. */
const GROUP_ID = '\u0000group-id';
const MACHINE_ID = '\u0000machine-id';

export class MachineReader {
  private readonly findQuery: CompiledQuery<FoundRow>;
  /** Machines found, until the next write: polling an unchanged machine asks no SQL. */
  private readonly found: WriteGuardedCache<StoredMachine>;

  constructor(private readonly db: Kysely<Database>) {
    this.found = new WriteGuardedCache(writeGenerationOf(db));
    this.findQuery = db
      .selectFrom('machines')
      .leftJoin('machine_agents', 'machine_agents.machine_id', 'machines.id')
      .selectAll('machines')
      .select([...AGENT_COLUMNS, 'machine_agents.report as agent_report'])
      .select((eb) => [
        eb
          .selectFrom('resource_groups')
          .select('resource_groups.name')
          .where('resource_groups.id', '=', GROUP_ID)
          .as('group_name'),
        eb
          .selectFrom('principals')
          .select('principals.id')
          .whereRef('principals.machine_id', '=', 'machines.id')
          .as('identity_id'),
      ])
      .where('machines.id', '=', MACHINE_ID)
      .compile();
  }

  /** The machines of a subscription, or of one of its groups, each with its agent if any. */
  private machinesIn(subscriptionId: string, resourceGroup: string | undefined) {
    const query = this.db
      .selectFrom('machines')
      .leftJoin('machine_agents', 'machine_agents.machine_id', 'machines.id')
      .where('machines.subscription_id', '=', subscriptionId);
    return resourceGroup === undefined
      ? query
      : query.where('machines.resource_group', '=', resourceGroup.toLowerCase());
  }

  /** Up to `limit` machines after the id `after`, by id; a whole subscription or one group. */
  async list(
    subscriptionId: string,
    resourceGroup: string | undefined,
    after: string | undefined,
    limit: number,
  ): Promise<MachinesTable[]> {
    let query = this.machinesIn(subscriptionId, resourceGroup).selectAll('machines');
    if (after !== undefined) query = query.where('machines.id', '>', after);
    return query.orderBy('machines.id').limit(limit).execute();
  }

  /**
   * A page of machines filtered and sorted in SQL, with how many match: the status is derived
   * in the statement from the agent's times and `now`, so no stored status goes stale, and the
   * list costs one page however large the fleet.
   */
  async page(q: MachinePageQuery): Promise<{ rows: MachinesTable[]; count: number }> {
    const list = machineListSql(this.db as Kysely<unknown>);
    const rank = statusRank(q.now, q.timings);
    let query = this.machinesIn(q.subscriptionId, q.resourceGroup);
    if (q.nameContains !== undefined) {
      const pattern = `%${q.nameContains.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      query = query.where(sql<boolean>`lower(machines.name) like ${pattern} escape '\\'`);
    }
    if (q.status !== undefined) query = query.where(rank, '=', STATUS_RANK[q.status]);
    if (q.osType !== undefined) {
      query = query.where(sql<boolean>`lower(${list.osText('osType')}) = ${q.osType}`);
    }
    if (q.tagName !== undefined) query = query.where(list.hasTag(q.tagName, q.tagValue));
    const direction = q.orderBy.descending ? 'desc' : 'asc';
    const sortBy = (() => {
      switch (q.orderBy.field) {
        case 'name':
          return sql`lower(machines.name)`;
        case 'status':
          return rank;
        case 'resourceGroup':
          return sql`machines.resource_group`;
        case 'osName':
          return list.byCode(sql<string>`lower(${list.osText('osName')})`);
        case 'lastStatusChange':
          return lastStatusChange(list, q.now, q.timings);
      }
    })();
    const [rows, counted] = await Promise.all([
      query
        .selectAll('machines')
        .orderBy(sortBy, direction)
        .orderBy('machines.id')
        .offset(q.offset)
        .limit(q.limit)
        .execute(),
      query.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirst(),
    ]);
    return { rows, count: Number(counted?.n ?? 0) };
  }

  /**
   * One machine with its group's spelling, its identity and its agent's row in a single
   * statement: this is the hottest read of the API (every agent and portal poll), so it costs
   * one round trip, and its SQL is built once; each call only supplies the two ids.
   */
  async find(id: string, caller: Caller | undefined): Promise<FoundMachine | undefined> {
    const stored = await this.found.read(id, () => this.load(id));
    return stored === undefined ? undefined : foundFor(stored, caller);
  }

  /** find() without waiting, when the machine was read since the last write. */
  cached(id: string, caller: Caller | undefined): FoundMachine | undefined {
    const stored = this.found.peek(id);
    return stored === undefined ? undefined : foundFor(stored, caller);
  }

  private async load(id: string): Promise<StoredMachine | undefined> {
    const parameters = this.findQuery.parameters.map((p) =>
      p === GROUP_ID ? groupIdOf(id) : p === MACHINE_ID ? id : p,
    );
    const query: CompiledQuery<FoundRow> = { ...this.findQuery, parameters };
    const { rows } = await this.db.executeQuery(query);
    const found = rows[0];
    if (found === undefined) return undefined;
    const { row: rest, agent } = splitAgent(found);
    const { group_name, identity_id, ...row } = rest;
    // Shared by every reader until the next write, so nobody may change them.
    return Object.freeze({
      row: Object.freeze(row),
      resourceGroupName: group_name ?? row.resource_group,
      identityPrincipalId: identity_id ?? undefined,
      agent: agent === undefined ? undefined : Object.freeze(agent),
    });
  }

  async view(row: MachinesTable, caller: Caller | undefined): Promise<MachineView> {
    const [view] = await this.views([row], caller);
    if (view === undefined) throw new Error('views() returns one view per row');
    return view;
  }

  async views(rows: readonly MachinesTable[], caller: Caller | undefined): Promise<MachineView[]> {
    if (rows.length === 0) return [];
    const groupIds = [
      ...new Set(rows.map((r) => resourceGroupScope(r.subscription_id, r.resource_group))),
    ];
    const groups = await this.db
      .selectFrom('resource_groups')
      .select(['id', 'name'])
      .where('id', 'in', groupIds)
      .execute();
    const identities = await this.db
      .selectFrom('principals')
      .select(['id', 'machine_id'])
      .where(
        'machine_id',
        'in',
        rows.map((r) => r.id),
      )
      .execute();
    const groupName = new Map(groups.map((g) => [g.id, g.name]));
    const identity = new Map(identities.map((p) => [p.machine_id, p.id]));
    return rows.map((row) => ({
      row,
      resourceGroupName:
        groupName.get(resourceGroupScope(row.subscription_id, row.resource_group)) ??
        row.resource_group,
      identityPrincipalId: identity.get(row.id),
      tenantId: tenantOf(caller),
    }));
  }
}

function foundFor(stored: StoredMachine, caller: Caller | undefined): FoundMachine {
  const view: MachineView = {
    row: stored.row,
    resourceGroupName: stored.resourceGroupName,
    identityPrincipalId: stored.identityPrincipalId,
    tenantId: tenantOf(caller),
  };
  return { view, agent: stored.agent };
}

function tenantOf(caller: Caller | undefined): string | undefined {
  const tid = caller?.claims['tid'];
  return typeof tid === 'string' ? tid : undefined;
}

/** `/subscriptions/{s}/resourcegroups/{rg}` of a lower-cased machine id. */
function groupIdOf(machineId: string): string {
  return machineId.split('/').slice(0, 5).join('/');
}
