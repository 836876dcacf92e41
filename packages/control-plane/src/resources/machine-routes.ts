// Microsoft.HybridCompute/machines: get, list by resource group and subscription, create or
// re-onboard (PUT), tags (PATCH) and delete. Each route declares the action it needs.
import type { FastifyRequest } from 'fastify';
import {
  resolveAgentUpgrade,
  storedAgentUpgrade,
  writeAgentUpgrade,
} from '../agent-upgrade/agent-upgrade-request.js';
import type { Caller } from '../api/caller.js';
import { ArmError } from '../api/arm-error.js';
import type { RouteSpec } from '../api/route-spec.js';
import { deleteAssignmentsWithin, forgetAssignments } from '../authorization/assignment-cleanup.js';
import { parseClientPublicKey, type ClientPublicKey } from '../machines/client-public-key.js';
import { deleteMachineExtensions } from '../extensions/extension-store.js';
import { GoalStateWaiters } from '../extensions/goal-state-waiters.js';
import { agentViewOf, agentViews } from '../machines/machine-agent-view.js';
import {
  createMachineIdentity,
  insertMachineRow,
  deleteMachineIdentity,
  forgetMachineIdentity,
  learnMachineIdentity,
} from '../machines/machine-identity-store.js';
import { DEFAULT_MACHINE_TIMINGS } from '../machines/machine-timings.js';
import { consumeOnboardingQuota } from '../onboarding/onboarding-quota.js';
import { machineView } from '../policy/index.js';
import { PolicyService } from '../policy-service/policy-service.js';
import type { MachinesTable } from '../store/schema.js';
import { checkMachineName, checkResourceGroupName, checkSubscriptionId } from './arm-names.js';
import {
  DEFAULT_PAGE_SIZE,
  encodeSkipToken,
  nextLinkFor,
  pageOf,
  skipTokenOf,
} from './arm-paging.js';
import { bodyObject, param, queryValue } from './arm-request.js';
import { parseMachineListQuery, type MachineListQuery } from './machine-list-query.js';
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
  type MachineView,
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
  const timings = services.machineTimings ?? DEFAULT_MACHINE_TIMINGS;
  const policy = new PolicyService(db, clock);

  /** Adds each machine's agent status and last report (derived at this moment). */
  async function withAgents(views: MachineView[]): Promise<MachineView[]> {
    const agents = await agentViews(
      db,
      views.map((v) => v.row.id),
      clock.now(),
      timings,
    );
    return views.map((v) => ({ ...v, agent: agents.get(v.row.id) }));
  }

  /** One page of machines in a subscription, or in one of its resource groups. */
  async function listPage(
    request: FastifyRequest,
    caller: Caller | undefined,
    subscriptionId: string,
    groupName: string | undefined,
  ): Promise<unknown> {
    const query = parseMachineListQuery({
      $filter: queryValue(request, '$filter'),
      $orderby: queryValue(request, '$orderby'),
      $top: queryValue(request, '$top'),
    });
    if (query !== undefined) return queryPage(request, caller, subscriptionId, groupName, query);
    const rows = await reader.list(subscriptionId, groupName, skipTokenOf(request), pageSize + 1);
    const views = await withAgents(await reader.views(rows, caller));
    return pageOf(
      views,
      pageSize,
      (v) => v.row.id,
      renderMachine,
      (token) => nextLinkFor(services.publicUrl, request, token),
    );
  }

  /**
   * A filtered, sorted page, chosen in SQL whatever it is filtered and sorted by; only the page's
   * machines are read and rendered.
   */
  async function queryPage(
    request: FastifyRequest,
    caller: Caller | undefined,
    subscriptionId: string,
    groupName: string | undefined,
    query: MachineListQuery,
  ): Promise<unknown> {
    const offset = offsetOf(skipTokenOf(request));
    const size = query.top ?? pageSize;
    const { filter, orderBy } = query;
    const found =
      groupName !== undefined &&
      filter.resourceGroup !== undefined &&
      filter.resourceGroup !== groupName.toLowerCase()
        ? { rows: [], count: 0 }
        : await reader.page({
            subscriptionId,
            resourceGroup: filter.resourceGroup ?? groupName,
            nameContains: filter.nameContains,
            status: filter.status,
            osType: filter.osType,
            tagName: filter.tagName,
            tagValue: filter.tagValue,
            orderBy,
            offset,
            limit: size,
            now: clock.now(),
            timings,
          });
    const views = await withAgents(await reader.views(found.rows, caller));
    return queryAnswer(request, views, found.count, offset, size);
  }

  function queryAnswer(
    request: FastifyRequest,
    views: readonly MachineView[],
    count: number,
    offset: number,
    size: number,
  ): Record<string, unknown> {
    const list: Record<string, unknown> = {
      '@odata.count': count,
      value: views.map(renderMachine),
    };
    if (offset + size < count) {
      list['nextLink'] = nextLinkFor(
        services.publicUrl,
        request,
        encodeSkipToken(`offset:${offset + size}`),
      );
    }
    return list;
  }

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
        return listPage(request, caller, subscriptionId, undefined);
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
        return listPage(request, caller, subscriptionId, group.name);
      },
    },
    {
      ...common,
      method: 'GET',
      url: ONE,
      access: { kind: 'action', action: MACHINE_ACTIONS.read, scope: machineAt },
      async handler({ request, reply, caller, scope }) {
        // The scope the read was authorized at is the machine's id (machineAt).
        const found = reader.cached(scope, caller) ?? (await reader.find(scope, caller));
        if (found === undefined) throw await missing(targetOf(request));
        const { view, agent } = found;
        // A status is derived from the clock, which the memo's key does not hold.
        if (agent !== undefined) {
          return renderMachine({ ...view, agent: agentViewOf(agent, clock.now(), timings) });
        }
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
        const key = publicKeyOf(put.properties);
        const group = await requireResourceGroup(db, target.subscriptionId, target.resourceGroup);
        const now = clock.now();
        const stamp = new Date(now).toISOString();
        const machine = { id: target.id, name: target.name };
        const before = await db
          .selectFrom('machines')
          .selectAll()
          .where('id', '=', target.id)
          .executeTakeFirst();
        await policy.refuseIfDenied(
          machineView({
            id: target.id,
            name: target.name,
            location: put.location,
            tags: put.tags,
            properties: {
              ...(before === undefined ? {} : (JSON.parse(before.properties) as object)),
              ...put.properties,
            },
          }),
        );
        // Checked before anything is written: a version that is not published changes nothing.
        const agentUpgrade =
          put.agentUpgrade === undefined
            ? undefined
            : await resolveAgentUpgrade(
                db,
                before === undefined
                  ? {}
                  : storedAgentUpgrade(JSON.parse(before.properties) as Record<string, unknown>),
                put.agentUpgrade,
              );
        if (before === undefined) {
          const created = await db.transaction().execute(async (trx) => {
            // A bounded onboarding token pays for the machine in the same transaction (B3).
            if (caller !== undefined) await consumeOnboardingQuota(trx, caller.principalId, now);
            const inserted = await insertMachineRow(
              trx,
              {
                id: target.id,
                subscriptionId: target.subscriptionId,
                resourceGroup: group.name,
                name: target.name,
                location: put.location,
                tags: put.tags,
                properties: put.properties,
              },
              stamp,
            );
            if (!inserted) throw concurrentCreate(target.name);
            return put.systemAssignedIdentity
              ? createMachineIdentity(trx, machine, key, now, timings)
              : undefined;
          });
          if (created !== undefined) learnMachineIdentity(created, authorizer);
          void reply.code(201);
        } else {
          // Taking over an existing name is a delete and a create: Onboarding may not (S3).
          await context.demand(MACHINE_ACTIONS.delete, target.id);
          checkLocationUnchanged(before, put.location);
          const properties = { ...(JSON.parse(before.properties) as object), ...put.properties };
          const replaced = await db.transaction().execute(async (trx) => {
            await trx
              .updateTable('machines')
              .set({
                tags: JSON.stringify(put.tags),
                properties: JSON.stringify(properties),
                updated_at: stamp,
              })
              .where('id', '=', target.id)
              .execute();
            if (!put.systemAssignedIdentity) return undefined;
            // Re-onboarding: the old identity, key and every grant to it go; a new one comes.
            const removed = await deleteMachineIdentity(trx, target.id);
            const created = await createMachineIdentity(trx, machine, key, now, timings);
            return { removed, created };
          });
          if (replaced !== undefined) {
            forgetAssignments(authorizer, replaced.removed.assignmentNames);
            forgetMachineIdentity(replaced.removed, authorizer, services.tokens);
            learnMachineIdentity(replaced.created, authorizer);
          }
        }
        if (agentUpgrade !== undefined) {
          await writeAgentUpgrade(db, clock, await existing(target), agentUpgrade);
        }
        const [view] = await withAgents([await reader.view(await existing(target), caller)]);
        if (view === undefined) throw await missing(target);
        return renderMachine(view);
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
        await policy.refuseIfDenied(
          machineView({
            id: row.id,
            name: row.name,
            location: row.location,
            tags: patch.tags ?? (JSON.parse(row.tags) as Record<string, string>),
            properties: JSON.parse(row.properties) as Record<string, unknown>,
          }),
        );
        const agentUpgrade =
          patch.agentUpgrade === undefined
            ? undefined
            : await resolveAgentUpgrade(
                db,
                storedAgentUpgrade(JSON.parse(row.properties) as Record<string, unknown>),
                patch.agentUpgrade,
              );
        if (agentUpgrade !== undefined) await writeAgentUpgrade(db, clock, row, agentUpgrade);
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
          await deleteMachineExtensions(trx, target.id);
          const identity = await deleteMachineIdentity(trx, target.id);
          return { identity, assignments: await deleteAssignmentsWithin(trx, target.id) };
        });
        if (removed === undefined) {
          void reply.code(204);
          return undefined;
        }
        forgetAssignments(authorizer, [
          ...removed.assignments,
          ...removed.identity.assignmentNames,
        ]);
        forgetMachineIdentity(removed.identity, authorizer, services.tokens);
        GoalStateWaiters.of(db).wake(target.id);
        return undefined;
      },
    },
  ];
}

/** Validates `clientPublicKey` when given and stores it in its canonical base64 form. */
function publicKeyOf(properties: Record<string, unknown>): ClientPublicKey | undefined {
  const text = properties['clientPublicKey'];
  if (typeof text !== 'string') return undefined;
  const key = parseClientPublicKey(text);
  properties['clientPublicKey'] = key.base64;
  return key;
}

function concurrentCreate(name: string): ArmError {
  return new ArmError(
    'Conflict',
    `The machine '${name}' was created by another request at the same time; retry the request.`,
  );
}

/** The position a query's `$skiptoken` resumes at; 0 for the first page. */
function offsetOf(after: string | undefined): number {
  if (after === undefined) return 0;
  const match = /^offset:(\d{1,9})$/.exec(after);
  if (match === null) {
    throw new ArmError(
      'BadRequest',
      "The $skiptoken is not one this list issued; pass back the one from the previous page's nextLink with the same $filter and $orderby.",
      { target: '$skiptoken' },
    );
  }
  return Number(match[1]);
}
