// Microsoft.Resources resource groups: list, get, create or update (location fixed for
// life, tags replaced) and delete, which takes its machines and their role assignments along.
import type { FastifyRequest } from 'fastify';
import { ArmError } from '../api/arm-error.js';
import type { RouteSpec } from '../api/route-spec.js';
import { deleteAssignmentsWithin, forgetAssignments } from '../authorization/assignment-cleanup.js';
import { deleteMachineExtensions } from '../extensions/extension-store.js';
import type { ResourceGroupsTable } from '../store/schema.js';
import { checkResourceGroupName, checkSubscriptionId } from './arm-names.js';
import { DEFAULT_PAGE_SIZE, nextLinkFor, pageOf, skipTokenOf } from './arm-paging.js';
import { bodyObject, field, param, queryValue, rejectUnknownFields } from './arm-request.js';
import type { ArmServices } from './arm-routes.js';
import {
  requireResourceGroup,
  requireSubscription,
  resourceGroupScope,
  subscriptionScope,
} from './arm-scope.js';
import { parseLocation, parseTags, type Tags } from './arm-tags.js';
import { parseResourceListQuery } from './resource-list-query.js';

export const RESOURCE_GROUP_API_VERSIONS = [
  '2019-10-01',
  '2020-06-01',
  '2021-04-01',
  '2022-09-01',
  '2024-03-01',
] as const;

export const RESOURCE_GROUP_ACTIONS = {
  read: 'Microsoft.Resources/subscriptions/resourceGroups/read',
  write: 'Microsoft.Resources/subscriptions/resourceGroups/write',
  delete: 'Microsoft.Resources/subscriptions/resourceGroups/delete',
} as const;

const LIST = '/subscriptions/:subscriptionId/resourcegroups';
const ONE = `${LIST}/:resourceGroupName`;

const subscriptionAt = (request: FastifyRequest): string =>
  subscriptionScope(checkSubscriptionId(param(request, 'subscriptionId')));
const groupAt = (request: FastifyRequest): string =>
  resourceGroupScope(
    checkSubscriptionId(param(request, 'subscriptionId')),
    checkResourceGroupName(param(request, 'resourceGroupName')),
  );

export function resourceGroupRoutes(services: ArmServices): RouteSpec[] {
  const { db, authorizer, clock } = services;
  const pageSize = services.pageSize ?? DEFAULT_PAGE_SIZE;
  const common = { apiVersions: RESOURCE_GROUP_API_VERSIONS };
  return [
    {
      // Declared before the GET of the same path, which would otherwise answer HEAD with a
      // 200 that `az group exists` does not accept: ARM answers 204 or 404.
      ...common,
      method: 'HEAD',
      url: ONE,
      access: { kind: 'action', action: RESOURCE_GROUP_ACTIONS.read, scope: groupAt },
      async handler({ request, reply }) {
        const subscriptionId = checkSubscriptionId(param(request, 'subscriptionId'));
        await requireResourceGroup(db, subscriptionId, param(request, 'resourceGroupName'));
        void reply.code(204);
        return undefined;
      },
    },
    {
      ...common,
      method: 'GET',
      url: LIST,
      access: { kind: 'action', action: RESOURCE_GROUP_ACTIONS.read, scope: subscriptionAt },
      async handler({ request }) {
        const subscriptionId = checkSubscriptionId(param(request, 'subscriptionId'));
        const tag = groupTagFilter(queryValue(request, '$filter'));
        await requireSubscription(db, subscriptionId);
        const after = skipTokenOf(request);
        let query = db
          .selectFrom('resource_groups')
          .selectAll()
          .where('subscription_id', '=', subscriptionId);
        if (after !== undefined) query = query.where('id', '>', after);
        // A tag filter reads the rest of the subscription's groups (tags are JSON, not
        // columns); a subscription holds few enough groups for that.
        const rows = (
          await (tag === undefined ? query.limit(pageSize + 1) : query).orderBy('id').execute()
        )
          .filter((row) => tag === undefined || hasTag(row, tag))
          .slice(0, pageSize + 1);
        return pageOf(
          rows,
          pageSize,
          (r) => r.id,
          renderResourceGroup,
          (token) => nextLinkFor(services.publicUrl, request, token),
        );
      },
    },
    {
      ...common,
      method: 'GET',
      url: ONE,
      access: { kind: 'action', action: RESOURCE_GROUP_ACTIONS.read, scope: groupAt },
      async handler({ request }) {
        const subscriptionId = checkSubscriptionId(param(request, 'subscriptionId'));
        return renderResourceGroup(
          await requireResourceGroup(db, subscriptionId, param(request, 'resourceGroupName')),
        );
      },
    },
    {
      ...common,
      method: 'PUT',
      url: ONE,
      access: { kind: 'action', action: RESOURCE_GROUP_ACTIONS.write, scope: groupAt },
      async handler({ request, reply }) {
        const subscriptionId = checkSubscriptionId(param(request, 'subscriptionId'));
        const name = checkResourceGroupName(param(request, 'resourceGroupName'));
        const body = bodyObject(request);
        rejectUnknownFields(
          body,
          ['location', 'tags', 'properties', 'id', 'name', 'type', 'managedBy'],
          '',
        );
        if (field(body, 'managedBy') !== undefined && field(body, 'managedBy') !== null) {
          throw new ArmError(
            'InvalidRequestContent',
            "The request content is invalid: 'managedBy' is not supported.",
            {
              target: 'managedBy',
            },
          );
        }
        const location = parseLocation(field(body, 'location'));
        const tags = parseTags(field(body, 'tags')) ?? {};
        await requireSubscription(db, subscriptionId);
        const id = resourceGroupScope(subscriptionId, name);
        const existing = await db
          .selectFrom('resource_groups')
          .selectAll()
          .where('id', '=', id)
          .executeTakeFirst();
        if (existing === undefined) {
          const result = await db
            .insertInto('resource_groups')
            .values({
              id,
              subscription_id: subscriptionId,
              name,
              location,
              tags: JSON.stringify(tags),
              created_at: new Date(clock.now()).toISOString(),
            })
            .onConflict((oc) => oc.column('id').doNothing())
            .executeTakeFirstOrThrow();
          if (result.numInsertedOrUpdatedRows === 0n) {
            throw new ArmError(
              'Conflict',
              `Resource group '${name}' was created by another request at the same time; retry.`,
            );
          }
          void reply.code(201);
        } else {
          if (existing.location !== location) {
            throw new ArmError(
              'InvalidResourceGroupLocation',
              `Invalid resource group location '${location}'. The Resource group already exists in location '${existing.location}'.`,
              { target: 'location' },
            );
          }
          await db
            .updateTable('resource_groups')
            .set({ tags: JSON.stringify(tags) })
            .where('id', '=', id)
            .execute();
        }
        return renderResourceGroup(await requireResourceGroup(db, subscriptionId, name));
      },
    },
    {
      ...common,
      method: 'DELETE',
      url: ONE,
      access: { kind: 'action', action: RESOURCE_GROUP_ACTIONS.delete, scope: groupAt },
      async handler({ request }) {
        const subscriptionId = checkSubscriptionId(param(request, 'subscriptionId'));
        const group = await requireResourceGroup(
          db,
          subscriptionId,
          param(request, 'resourceGroupName'),
        );
        const removed = await db.transaction().execute(async (trx) => {
          const machines = await trx
            .selectFrom('machines')
            .select('id')
            .where('subscription_id', '=', subscriptionId)
            .where('resource_group', '=', group.name.toLowerCase())
            .execute();
          for (const { id } of machines) await deleteMachineExtensions(trx, id);
          await trx
            .deleteFrom('machines')
            .where('subscription_id', '=', subscriptionId)
            .where('resource_group', '=', group.name.toLowerCase())
            .execute();
          const assignments = await deleteAssignmentsWithin(trx, group.id);
          await trx.deleteFrom('resource_groups').where('id', '=', group.id).execute();
          return assignments;
        });
        forgetAssignments(authorizer, removed);
        return undefined;
      },
    },
  ];
}

export function renderResourceGroup(row: ResourceGroupsTable): Record<string, unknown> {
  return {
    id: `/subscriptions/${row.subscription_id}/resourceGroups/${row.name}`,
    name: row.name,
    type: 'Microsoft.Resources/resourceGroups',
    location: row.location,
    tags: JSON.parse(row.tags) as Tags,
    properties: { provisioningState: 'Succeeded' },
  };
}

/** `$filter` on the group list: ARM takes `tagName eq '…'` [`and tagValue eq '…'`] only. */
function groupTagFilter(
  raw: string | undefined,
): { name: string; value: string | undefined } | undefined {
  const { filter } = parseResourceListQuery({ filter: raw, expand: undefined, top: undefined });
  const other = Object.keys(filter).find((f) => f !== 'tagName' && f !== 'tagValue');
  if (other !== undefined) {
    throw new ArmError(
      'BadRequest',
      `The $filter on resource groups may name tagName and tagValue only, not '${other}'.`,
      { target: '$filter' },
    );
  }
  return filter.tagName === undefined
    ? undefined
    : { name: filter.tagName, value: filter.tagValue };
}

/** Tag names compare case-insensitively, values exactly, as ARM compares them. */
function hasTag(
  row: ResourceGroupsTable,
  tag: { name: string; value: string | undefined },
): boolean {
  const found = Object.entries(JSON.parse(row.tags) as Tags).find(
    ([name]) => name.toLowerCase() === tag.name.toLowerCase(),
  );
  return found !== undefined && (tag.value === undefined || found[1] === tag.value);
}
