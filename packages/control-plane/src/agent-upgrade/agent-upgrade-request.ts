// A machine's `properties.agentUpgrade` (Arc's shape): what an ARM write may ask for — a
// published version, or automatic upgrades to the newest — and how the request reaches the
// machine's agent: stored with the machine, with a fresh correlationId, in the same transaction
// that moves the machine's goal-state generation, so the agent's long poll answers at once.
import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { compareDebianVersions, type AgentUpgradeGoal } from '@tether/protocol/agent-upgrade';
import { ArmError } from '../api/arm-error.js';
import type { Clock } from '../clock.js';
import { bumpGeneration } from '../extensions/extension-store.js';
import { GoalStateWaiters } from '../extensions/goal-state-waiters.js';
import { isGuid } from '../resources/arm-names.js';
import { asObject, field, invalidContent, type JsonObject } from '../resources/arm-request.js';
import type { Database, MachinesTable } from '../store/schema.js';
import {
  agentPackageDownloadPath,
  findAgentPackage,
  newestAgentPackage,
} from './agent-package-store.js';

/** What an API caller may set. */
export interface AgentUpgradeRequest {
  desiredVersion: string | undefined;
  enableAutomaticUpgrade: boolean | undefined;
  correlationId: string | undefined;
}

/** What the agent reports about its last attempt; never taken from an API caller. */
const REPORTED = [
  'lastAttemptDesiredVersion',
  'lastAttemptTimestamp',
  'lastAttemptStatus',
  'lastAttemptMessage',
  'lastAttemptCorrelationId',
] as const;

const TARGET = 'properties.agentUpgrade';

export function parseAgentUpgradeRequest(value: unknown): AgentUpgradeRequest {
  const body = asObject(value, TARGET);
  for (const key of Object.keys(body)) {
    const reported = REPORTED.find((name) => name.toLowerCase() === key.toLowerCase());
    if (reported !== undefined) {
      throw invalidContent(
        `${TARGET}.${reported}`,
        "is read-only: the machine's agent reports how its last upgrade attempt ended",
      );
    }
    if (key.toLowerCase() === 'downloadurl') {
      throw invalidContent(
        `${TARGET}.downloadUrl`,
        "is not taken: machines download agent packages from this control plane; publish one with 'tether agent-package publish'",
      );
    }
    if (
      !['desiredversion', 'enableautomaticupgrade', 'correlationid'].includes(key.toLowerCase())
    ) {
      throw invalidContent(
        `${TARGET}.${key}`,
        'is not a property of agentUpgrade; accepted: desiredVersion, enableAutomaticUpgrade, correlationId',
      );
    }
  }
  const desired = field(body, 'desiredVersion');
  if (
    desired !== undefined &&
    desired !== null &&
    (typeof desired !== 'string' || desired === '')
  ) {
    throw invalidContent(`${TARGET}.desiredVersion`, 'must be a version string, e.g. 1.2.0');
  }
  const automatic = field(body, 'enableAutomaticUpgrade');
  if (automatic !== undefined && automatic !== null && typeof automatic !== 'boolean') {
    throw invalidContent(`${TARGET}.enableAutomaticUpgrade`, 'must be true or false');
  }
  const correlation = field(body, 'correlationId');
  if (
    correlation !== undefined &&
    correlation !== null &&
    (typeof correlation !== 'string' || !isGuid(correlation))
  ) {
    throw invalidContent(`${TARGET}.correlationId`, 'must be a GUID');
  }
  return {
    desiredVersion: typeof desired === 'string' ? desired : undefined,
    enableAutomaticUpgrade: typeof automatic === 'boolean' ? automatic : undefined,
    correlationId: typeof correlation === 'string' ? correlation.toLowerCase() : undefined,
  };
}

/** The stored `agentUpgrade` of a machine's properties, or an empty object. */
export function storedAgentUpgrade(properties: JsonObject): JsonObject {
  const value = properties['agentUpgrade'];
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as JsonObject)
    : {};
}

/**
 * The machine's agentUpgrade after `request`: the version it names must be published; with
 * automatic upgrades and no version, the newest published is the target. The agent's reports
 * of earlier attempts stay.
 */
export async function resolveAgentUpgrade(
  db: Kysely<Database>,
  current: JsonObject,
  request: AgentUpgradeRequest,
): Promise<JsonObject> {
  const automatic = request.enableAutomaticUpgrade ?? current['enableAutomaticUpgrade'] === true;
  const reported = Object.fromEntries(
    REPORTED.flatMap((k) => (k in current ? [[k, current[k]]] : [])),
  );
  let desiredVersion: string | undefined;
  if (request.desiredVersion !== undefined) {
    const found = await findAgentPackage(db, request.desiredVersion);
    if (found === undefined) {
      throw new ArmError(
        'AgentPackageNotFound',
        `No agent package of version '${request.desiredVersion.slice(0, 80)}' is published on this control plane; publish it with 'tether agent-package publish FILE.deb' or pick one of 'tether agent-package list'.`,
        { target: `${TARGET}.desiredVersion` },
      );
    }
    desiredVersion = found.version;
  }
  if (automatic) {
    const newest = await newestAgentPackage(db);
    if (newest === undefined) {
      throw new ArmError(
        'AgentPackageNotFound',
        "Automatic agent upgrades need a published agent package, and none is: publish one with 'tether agent-package publish FILE.deb'.",
        { target: `${TARGET}.enableAutomaticUpgrade` },
      );
    }
    if (desiredVersion === undefined || compareDebianVersions(newest.version, desiredVersion) > 0) {
      desiredVersion = newest.version;
    }
  }
  return {
    ...(desiredVersion === undefined ? {} : { desiredVersion }),
    enableAutomaticUpgrade: automatic,
    ...(desiredVersion === undefined
      ? {}
      : { correlationId: request.correlationId ?? randomUUID() }),
    ...reported,
  };
}

/** Stores `agentUpgrade` on the machine and hands it to its agent. */
export async function writeAgentUpgrade(
  db: Kysely<Database>,
  clock: Clock,
  machine: MachinesTable,
  agentUpgrade: JsonObject,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom('machines')
      .select('properties')
      .where('id', '=', machine.id)
      .executeTakeFirst();
    if (row === undefined) return;
    const properties = JSON.parse(row.properties) as JsonObject;
    await trx
      .updateTable('machines')
      .set({
        properties: JSON.stringify({ ...properties, agentUpgrade }),
        updated_at: new Date(clock.now()).toISOString(),
      })
      .where('id', '=', machine.id)
      .execute();
    await bumpGeneration(trx, machine.id);
  });
  GoalStateWaiters.of(db).wake(machine.id);
}

/** After a publish: machines upgrading automatically are given the newest version. */
export async function followNewestPackage(db: Kysely<Database>, clock: Clock): Promise<number> {
  const newest = await newestAgentPackage(db);
  if (newest === undefined) return 0;
  // Properties are stored as JSON.stringify writes them: no spaces.
  const rows = await db
    .selectFrom('machines')
    .selectAll()
    .where(sql<boolean>`properties like ${'%"enableAutomaticUpgrade":true%'}`)
    .execute();
  let moved = 0;
  for (const row of rows) {
    const current = storedAgentUpgrade(JSON.parse(row.properties) as JsonObject);
    if (current['enableAutomaticUpgrade'] !== true) continue;
    const desired = current['desiredVersion'];
    if (typeof desired === 'string' && compareDebianVersions(newest.version, desired) <= 0)
      continue;
    await writeAgentUpgrade(db, clock, row, {
      ...current,
      desiredVersion: newest.version,
      correlationId: randomUUID(),
    });
    moved += 1;
  }
  return moved;
}

/** The goal state's `agentUpgrade` for a machine with these properties, or null. */
export async function agentUpgradeGoal(
  db: Kysely<Database>,
  properties: JsonObject,
): Promise<AgentUpgradeGoal | null> {
  const stored = storedAgentUpgrade(properties);
  const version = stored['desiredVersion'];
  const correlationId = stored['correlationId'];
  if (typeof version !== 'string' || typeof correlationId !== 'string') return null;
  const found = await findAgentPackage(db, version);
  if (found === undefined) return null;
  return {
    version: found.version,
    sha256: found.sha256,
    size: found.size,
    signature: found.signature,
    downloadPath: agentPackageDownloadPath(found.version),
    correlationId,
  };
}
