// What the guest configuration routes share: the services they run with, the assignment a path
// names, and the wake-up of the machines' goal-state long polls.
import type { FastifyRequest } from 'fastify';
import { ArmError } from '../api/arm-error.js';
import type { Clock } from '../clock.js';
import { clusterChannelOf } from '../cluster/cluster-channel.js';
import { GoalStateWaiters } from '../extensions/goal-state-waiters.js';
import { machineTargetOf, type MachineTarget } from '../extensions/extension-target.js';
import { DEFAULT_PAGE_SIZE } from '../resources/arm-paging.js';
import { param } from '../resources/arm-request.js';
import type { ArmServices } from '../resources/arm-routes.js';
import { resourceNotFound } from '../resources/arm-scope.js';
import { gcAssignmentIdOf, GC_ASSIGNMENT_TYPE } from './gc-assignment-resource.js';
import { PolicyMatcher } from './policy-matcher.js';
import type { PolicySource } from './policy-source.js';
import type { Db } from './gc-store.js';

export const GC_COLLECTION =
  '/providers/Microsoft.GuestConfiguration/guestConfigurationAssignments';
export const GC_ASSIGNMENT_PATH = `/subscriptions/:subscriptionId/resourceGroups/:resourceGroupName/providers/Microsoft.HybridCompute/machines/:machineName${GC_COLLECTION}/:assignmentName`;

export interface GcServices {
  db: Db;
  clock: Clock;
  publicUrl: string;
  pageSize: number;
  /** The machines' guest configuration goal-state polls (not the extension ones). */
  waiters: GoalStateWaiters;
  /** Which policies apply to a machine; absent, only directly written assignments exist. */
  policy: PolicySource | undefined;
}

const WAITERS = new WeakMap<object, GoalStateWaiters>();

/** The guest configuration polls held over `db`, if its routes were built. */
export function gcWaitersOf(db: object): GoalStateWaiters | undefined {
  return WAITERS.get(db);
}

export function gcServicesOf(services: ArmServices): GcServices {
  let waiters = WAITERS.get(services.db);
  const fresh = waiters === undefined;
  if (waiters === undefined) {
    waiters = new GoalStateWaiters({
      channel: clusterChannelOf(services.db),
      topic: 'gc-goal-state',
    });
    WAITERS.set(services.db, waiters);
  }
  const gc: GcServices = {
    db: services.db,
    clock: services.clock,
    publicUrl: services.publicUrl,
    pageSize: services.pageSize ?? DEFAULT_PAGE_SIZE,
    waiters,
    policy: services.policy,
  };
  // One listener per database, however many times the routes are built over it; matching asked
  // for before a restart and not finished resumes now.
  if (fresh && services.policy !== undefined) {
    const matcher = PolicyMatcher.of(gc);
    services.policy.onChange((change) => void matcher.request(change.scope).catch(() => undefined));
    matcher.start();
  }
  return gc;
}

export interface GcTarget extends MachineTarget {
  name: string;
  /** Lower-cased ARM id of the assignment. */
  assignmentId: string;
}

/** 1-128 letters, digits, `_`, `.` and `-`, starting with a letter or digit. */
export function checkGcAssignmentName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(name)) {
    throw new ArmError(
      'InvalidResourceName',
      `The guest configuration assignment name '${name.slice(0, 140)}' is not valid: use 1-128 letters, digits, '_', '.' or '-', starting with a letter or digit.`,
      { target: 'assignmentName' },
    );
  }
  return name;
}

export function gcTargetOf(request: FastifyRequest): GcTarget {
  const machine = machineTargetOf(request);
  const name = checkGcAssignmentName(param(request, 'assignmentName'));
  return { ...machine, name, assignmentId: gcAssignmentIdOf(machine.machineId, name) };
}

export const gcAssignmentAt = (request: FastifyRequest): string => gcTargetOf(request).assignmentId;

export function gcAssignmentNotFound(target: GcTarget): ArmError {
  return resourceNotFound(
    `Microsoft.HybridCompute/machines/${target.machineName}/providers/${GC_ASSIGNMENT_TYPE}/${target.name}`,
    target.resourceGroup,
  );
}
