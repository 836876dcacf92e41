// The few expressions of the machines list that SQLite and PostgreSQL spell differently: a string
// member of a JSON column, a tag of the machine's tags, and an ISO time some milliseconds later.
// Everything else in the list's query is shared; these let it filter and sort by OS, tag and
// last status change in the statement, so a list costs one page however large the fleet.
import { PostgresAdapter, sql, type Kysely, type RawBuilder } from 'kysely';

export interface MachineListSql {
  /**
   * The machine's `osType` or `osName` as its resource shows it: the agent's last report when it
   * holds one (a string, else ''), else the machine's stored properties; '' when neither does.
   */
  osText(key: 'osType' | 'osName'): RawBuilder<string>;
  /**
   * Whether the machine's tags hold `name` (in any case the store's lower() folds: SQLite's only
   * A-Z), with exactly `value` when given.
   */
  hasTag(name: string, value: string | undefined): RawBuilder<boolean>;
  /** The time `ms` after an ISO time, in the same form (`toISOString()`'s); null stays null. */
  later(time: RawBuilder<string | null>, ms: number): RawBuilder<string>;
  /** The earliest of ISO times that are never null. */
  earliest(...times: RawBuilder<string>[]): RawBuilder<string>;
  /** Text ordered by its characters' codes, as JavaScript compares strings. */
  byCode(text: RawBuilder<string>): RawBuilder<string>;
}

const REPORT = sql.ref('machine_agents.report');
const PROPERTIES = sql.ref('machines.properties');
const TAGS = sql.ref('machines.tags');

const sqlite: MachineListSql = {
  osText(key) {
    const path = sql.lit(`$.${key}`);
    const inReport = sql`json_type(${REPORT}, ${path})`;
    return sql<string>`case
      when ${inReport} = 'text' then json_extract(${REPORT}, ${path})
      when ${inReport} is not null and ${inReport} <> 'null' then ''
      when json_type(${PROPERTIES}, ${path}) = 'text' then json_extract(${PROPERTIES}, ${path})
      else '' end`;
  },
  hasTag(name, value) {
    const sameValue =
      value === undefined ? sql`` : sql`and tag.type = 'text' and tag.value = ${value}`;
    return sql<boolean>`exists (select 1 from json_each(${TAGS}) as tag
      where lower(tag.key) = lower(${name}) ${sameValue})`;
  },
  later(time, ms) {
    return sql<string>`strftime('%Y-%m-%dT%H:%M:%fZ', ${time}, ${`+${ms / 1000} seconds`})`;
  },
  earliest(...times) {
    return sql<string>`min(${sql.join(times)})`;
  },
  byCode(text) {
    return text;
  },
};

const postgres: MachineListSql = {
  osText(key) {
    const name = sql.lit(key);
    const inReport = sql`json_typeof(${REPORT}::json -> ${name})`;
    return sql<string>`case
      when ${inReport} = 'string' then ${REPORT}::json ->> ${name}
      when ${inReport} is not null and ${inReport} <> 'null' then ''
      when json_typeof(${PROPERTIES}::json -> ${name}) = 'string' then ${PROPERTIES}::json ->> ${name}
      else '' end`;
  },
  hasTag(name, value) {
    const sameValue =
      value === undefined
        ? sql``
        : sql`and json_typeof(tag.value) = 'string' and tag.value #>> '{}' = ${value}`;
    return sql<boolean>`exists (select 1 from json_each(${TAGS}::json) as tag
      where lower(tag.key) = lower(${name}) ${sameValue})`;
  },
  later(time, ms) {
    return sql<string>`to_char(((${time})::timestamptz + ${sql.lit(ms)} * interval '1 millisecond')
      at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
  },
  earliest(...times) {
    return sql<string>`least(${sql.join(times)})`;
  },
  byCode(text) {
    return sql<string>`(${text}) collate "C"`;
  },
};

/** The expressions for the store `db` runs on. */
export function machineListSql(db: Kysely<unknown>): MachineListSql {
  return db.getExecutor().adapter instanceof PostgresAdapter ? postgres : sqlite;
}
