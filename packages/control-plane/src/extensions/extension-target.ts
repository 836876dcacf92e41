// What the extension routes share: the machine or extension a path names (in canonical and
// as-given spelling), the machine it must exist on, and the services they run with.
import type { FastifyRequest } from 'fastify';
import type { Kysely, Selectable } from 'kysely';
import type { SqlActivityLog } from '../activity/sql-activity-log.js';
import type { Clock } from '../clock.js';
import { DEFAULT_MACHINE_TIMINGS } from '../machines/machine-timings.js';
import {
  checkMachineName,
  checkResourceGroupName,
  checkSubscriptionId,
} from '../resources/arm-names.js';
import { DEFAULT_PAGE_SIZE } from '../resources/arm-paging.js';
import { param, queryValue } from '../resources/arm-request.js';
import type { ArmServices } from '../resources/arm-routes.js';
import { machineScope, requireResourceGroup, resourceNotFound } from '../resources/arm-scope.js';
import { machineId as machineDisplayIdOf } from '../resources/machine-resource.js';
import { preparedQuery } from '../store/prepared-query.js';
import type { Database, MachinesTable } from '../store/schema.js';
import { checkExtensionName } from './extension-input.js';
import { extensionIdOf } from './extension-resource.js';
import { GoalStateWaiters } from './goal-state-waiters.js';

export const MACHINE_PATH =
  '/subscriptions/:subscriptionId/resourceGroups/:resourceGroupName/providers/Microsoft.HybridCompute/machines/:machineName';
export const EXTENSION_PATH = `${MACHINE_PATH}/extensions/:extensionName`;

export interface ExtensionServices {
  db: Kysely<Database>;
  clock: Clock;
  publicUrl: string;
  pageSize: number;
  requestTimeoutMs: number;
  waiters: GoalStateWaiters;
  activityLog: SqlActivityLog;
}

export function extensionServicesOf(services: ArmServices): ExtensionServices {
  const timings = services.machineTimings ?? DEFAULT_MACHINE_TIMINGS;
  return {
    db: services.db,
    clock: services.clock,
    publicUrl: services.publicUrl,
    pageSize: services.pageSize ?? DEFAULT_PAGE_SIZE,
    requestTimeoutMs: timings.extensionRequestTimeoutMs,
    waiters: GoalStateWaiters.of(services.db),
    activityLog: services.activityLog,
  };
}

export interface MachineTarget {
  subscriptionId: string;
  resourceGroup: string;
  machineName: string;
  /** Lower-cased ARM id of the machine. */
  machineId: string;
  /** The machine's ARM id as the caller spelled it, for the ids answers carry. */
  machineDisplayId: string;
}

export interface ExtensionTarget extends MachineTarget {
  name: string;
  /** Lower-cased ARM id of the extension. */
  extensionId: string;
}

/**
 * Each request's target, worked out once: the access check (its scope) and the handler both
 * ask for it, and its names are checked and lower-cased on the way.
 */
const MACHINE_TARGETS = new WeakMap<FastifyRequest, MachineTarget>();
const EXTENSION_TARGETS = new WeakMap<FastifyRequest, ExtensionTarget>();

export function machineTargetOf(request: FastifyRequest): MachineTarget {
  let target = MACHINE_TARGETS.get(request);
  if (target === undefined) {
    target = parseMachineTarget(request);
    MACHINE_TARGETS.set(request, target);
  }
  return target;
}

function parseMachineTarget(request: FastifyRequest): MachineTarget {
  const subscriptionId = checkSubscriptionId(param(request, 'subscriptionId'));
  const resourceGroup = checkResourceGroupName(param(request, 'resourceGroupName'));
  const machineName = checkMachineName(param(request, 'machineName'));
  return {
    subscriptionId,
    resourceGroup,
    machineName,
    machineId: machineScope(subscriptionId, resourceGroup, machineName),
    machineDisplayId: machineDisplayIdOf(subscriptionId, resourceGroup, machineName),
  };
}

export function extensionTargetOf(request: FastifyRequest): ExtensionTarget {
  let target = EXTENSION_TARGETS.get(request);
  if (target === undefined) {
    const machine = machineTargetOf(request);
    const name = checkExtensionName(param(request, 'extensionName'));
    target = { ...machine, name, extensionId: extensionIdOf(machine.machineId, name) };
    EXTENSION_TARGETS.set(request, target);
  }
  return target;
}

export const machineAt = (request: FastifyRequest): string => machineTargetOf(request).machineId;
export const extensionAt = (request: FastifyRequest): string =>
  extensionTargetOf(request).extensionId;

const machineById = preparedQuery(1, (db: Kysely<Database>, id: string) =>
  db.selectFrom('machines').selectAll().where('id', '=', id),
);

const machineIdOf = preparedQuery(1, (db: Kysely<Database>, id: string) =>
  db.selectFrom('machines').select('id').where('id', '=', id),
);

/** Nothing when the machine of `target` exists, or the 404 of requireMachine. */
export async function requireMachineExists(
  db: Kysely<Database>,
  target: MachineTarget,
): Promise<void> {
  if ((await machineIdOf.first(db, target.machineId)) === undefined) {
    await requireMachine(db, target);
  }
}

/** The machine of `target`, or 404 naming the machine (or its missing group). */
export async function requireMachine(
  db: Kysely<Database>,
  target: MachineTarget,
): Promise<Selectable<MachinesTable>> {
  const machine = await machineById.first(db, target.machineId);
  if (machine !== undefined) return machine;
  await requireResourceGroup(db, target.subscriptionId, target.resourceGroup);
  throw resourceNotFound(
    `Microsoft.HybridCompute/machines/${target.machineName}`,
    target.resourceGroup,
  );
}

export function extensionNotFound(target: ExtensionTarget): Error {
  return resourceNotFound(
    `Microsoft.HybridCompute/machines/${target.machineName}/extensions/${target.name}`,
    target.resourceGroup,
  );
}

/** The api-version the request was made with; registerRoutes has already checked it. */
export function apiVersionOf(request: FastifyRequest): string {
  return queryValue(request, 'api-version') ?? '';
}
