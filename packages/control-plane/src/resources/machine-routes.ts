// Microsoft.HybridCompute/machines: get, list by resource group and subscription, create or
// re-onboard (PUT), tags (PATCH) and delete. Each route declares the action it needs.
import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ArmError } from '../api/arm-error.js';
import type { RouteSpec } from '../api/route-spec.js';
import { deleteAssignmentsWithin, forgetAssignments } from '../authorization/assignment-cleanup.js';
import type { MachinesTable } from '../store/schema.js';
import { checkMachineName, checkResourceGroupName, checkSubscriptionId } from './arm-names.js';
import { DEFAULT_PAGE_SIZE, nextLinkFor, pageOf, skipTokenOf } from './arm-paging.js';
import { bodyObject, param } from './arm-request.js';
import type { ArmServices } from './arm-routes.js';
import {
  machineScope,
  requireResourceGroup,
  requireSubscription,
  resourceGroupScope,
  resourceNotFound,
  subscriptionScope,
} from './arm-scope.js';
import { MachineJsonMemo } from './machine-json-memo.js';
import { MachineReader } from './machine-reader.js';
import {
  checkLocationUnchanged,
  parseMachinePatch,
  parseMachinePut,
  renderMachine,
} from './machine-resource.js';

/** 2021-05-20 is what @azure/arm-hybridcompute 3.x sends; the rest are later GA versions. */
export const MACHINE_API_VERSIONS = [
  '2020-08-02',
  '2021-05-20',
  '2022-03-10',
  '2022-11-10',
  '2022-12-27',
  '2024-07-10',
] as const;

export const MACHINE_ACTIONS = {
  read: 'Microsoft.HybridCompute/machines/read',
  write: 'Microsoft.HybridCompute/machines/write',
  delete: 'Microsoft.HybridCompute/machines/delete',
} as const;

const BY_SUBSCRIPTION = '/subscriptions/:subscriptionId/providers/Microsoft.HybridCompute/machines';
const BY_GROUP =
  '/subscriptions/:subscriptionId/resourceGroups/:resourceGroupName/providers/Microsoft.HybridCompute/machines';
const ONE = `${BY_GROUP}/:machineName`;

interface MachineTarget {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  id: string;
}

function targetOf(request: FastifyRequest): MachineTarget {
  const subscriptionId = checkSubscriptionId(param(request, 'subscriptionId'));
  const resourceGroup = checkResourceGroupName(param(request, 'resourceGroupName'));
  const name = checkMachineName(param(request, 'machineName'));
  return {
    subscriptionId,
    resourceGroup,
    name,
    id: machineScope(subscriptionId, resourceGroup, name),
  };
}

const machineAt = (request: FastifyRequest): string => targetOf(request).id;
const groupAt = (request: FastifyRequest): string =>
  resourceGroupScope(
    checkSubscriptionId(param(request, 'subscriptionId')),
    checkResourceGroupName(param(request, 'resourceGroupName')),
  );
const subscriptionAt = (request: FastifyRequest): string =>
  subscriptionScope(checkSubscriptionId(param(request, 'subscriptionId')));

export function machineRoutes(services: ArmServices): RouteSpec[] {
  const { db, authorizer, clock } = services;
  const reader = new MachineReader(db);
  const bodies = new MachineJsonMemo();
  const pageSize = services.pageSize ?? DEFAULT_PAGE_SIZE;
  const common = { apiVersions: MACHINE_API_VERSIONS };

  /** The error for a machine that is not there, naming its group or subscription if they are not either. */
  async function missing(target: MachineTarget): Promise<ArmError> {
    await requireResourceGroup(db, target.subscriptionId, target.resourceGroup);
    return resourceNotFound(
      `Microsoft.HybridCompute/machines/${target.name}`,
      target.resourceGroup,
    );
  }

  async function existing(target: MachineTarget): Promise<MachinesTable> {
    const row = await db
      .selectFrom('machines')
      .selectAll()
      .where('id', '=', target.id)
      .executeTakeFirst();
    if (row === undefined) throw await missing(target);
    return row;
  }

  return [
    {
      ...common,
      method: 'GET',
      url: BY_SUBSCRIPTION,
      access: { kind: 'action', action: MACHINE_ACTIONS.read, scope: subscriptionAt },
      async handler({ request, caller }) {
        const subscriptionId = checkSubscriptionId(param(request, 'subscriptionId'));
        await requireSubscription(db, subscriptionId);
        const rows = await reader.list(
          subscriptionId,
          undefined,
          skipTokenOf(request),
          pageSize + 1,
        );
        const views = await reader.views(rows, caller);
        return pageOf(
          views,
          pageSize,
          (v) => v.row.id,
          renderMachine,
          (token) => nextLinkFor(services.publicUrl, request, token),
        );
      },
    },
    {
      ...common,
      method: 'GET',
      url: BY_GROUP,
      access: { kind: 'action', action: MACHINE_ACTIONS.read, scope: groupAt },
      async handler({ request, caller }) {
        const subscriptionId = checkSubscriptionId(param(request, 'subscriptionId'));
        const group = await requireResourceGroup(
          db,
          subscriptionId,
          param(request, 'resourceGroupName'),
        );
        const rows = await reader.list(
          subscriptionId,
          group.name,
          skipTokenOf(request),
          pageSize + 1,
        );
        const views = await reader.views(rows, caller);
        return pageOf(
          views,
          pageSize,
          (v) => v.row.id,
          renderMachine,
          (token) => nextLinkFor(services.publicUrl, request, token),
        );
      },
    },
    {
      ...common,
      method: 'GET',
      url: ONE,
      access: { kind: 'action', action: MACHINE_ACTIONS.read, scope: machineAt },
      async handler({ request, reply, caller }) {
        const target = targetOf(request);
        const view = await reader.find(target.id, caller);
        if (view === undefined) throw await missing(target);
        void reply.type('application/json; charset=utf-8');
        return bodies.json(view);
      },
    },
    {
      ...common,
      method: 'PUT',
      url: ONE,
      access: { kind: 'action', action: MACHINE_ACTIONS.write, scope: machineAt },
      async handler(context) {
        const { request, reply, caller } = context;
        const target = targetOf(request);
        const put = parseMachinePut(bodyObject(request), target.name);
        const group = await requireResourceGroup(db, target.subscriptionId, target.resourceGroup);
        const now = new Date(clock.now()).toISOString();
        const before = await db
          .selectFrom('machines')
          .selectAll()
          .where('id', '=', target.id)
          .executeTakeFirst();
        if (before === undefined) {
          await db
            .insertInto('machines')
            .values({
              id: target.id,
              subscription_id: target.subscriptionId,
              resource_group: group.name.toLowerCase(),
              name: target.name,
              location: put.location,
              tags: JSON.stringify(put.tags),
              properties: JSON.stringify({ vmId: randomUUID(), ...put.properties }),
              created_at: now,
              updated_at: now,
            })
            .onConflict((oc) => oc.column('id').doNothing())
            .executeTakeFirstOrThrow()
            .then((result) => {
              if (result.numInsertedOrUpdatedRows === 0n) throw concurrentCreate(target.name);
            });
          void reply.code(201);
        } else {
          // Taking over an existing name is a delete and a create: Onboarding may not (S3).
          await context.demand(MACHINE_ACTIONS.delete, target.id);
          checkLocationUnchanged(before, put.location);
          const properties = { ...(JSON.parse(before.properties) as object), ...put.properties };
          await db
            .updateTable('machines')
            .set({
              tags: JSON.stringify(put.tags),
              properties: JSON.stringify(properties),
              updated_at: now,
            })
            .where('id', '=', target.id)
            .execute();
        }
        return renderMachine(await reader.view(await existing(target), caller));
      },
    },
    {
      ...common,
      method: 'PATCH',
      url: ONE,
      access: { kind: 'action', action: MACHINE_ACTIONS.write, scope: machineAt },
      async handler({ request, caller }) {
        const target = targetOf(request);
        const patch = parseMachinePatch(bodyObject(request));
        const row = await existing(target);
        if (patch.tags !== undefined) {
          await db
            .updateTable('machines')
            .set({
              tags: JSON.stringify(patch.tags),
              updated_at: new Date(clock.now()).toISOString(),
            })
            .where('id', '=', row.id)
            .execute();
        }
        return renderMachine(await reader.view(await existing(target), caller));
      },
    },
    {
      ...common,
      method: 'DELETE',
      url: ONE,
      access: { kind: 'action', action: MACHINE_ACTIONS.delete, scope: machineAt },
      async handler({ request, reply }) {
        const target = targetOf(request);
        await requireResourceGroup(db, target.subscriptionId, target.resourceGroup);
        const removed = await db.transaction().execute(async (trx) => {
          const deleted = await trx
            .deleteFrom('machines')
            .where('id', '=', target.id)
            .executeTakeFirst();
          if (deleted.numDeletedRows === 0n) return undefined;
          return deleteAssignmentsWithin(trx, target.id);
        });
        if (removed === undefined) {
          void reply.code(204);
          return undefined;
        }
        forgetAssignments(authorizer, removed);
        return undefined;
      },
    },
  ];
}

function concurrentCreate(name: string): ArmError {
  return new ArmError(
    'Conflict',
    `The machine '${name}' was created by another request at the same time; retry the request.`,
  );
}
