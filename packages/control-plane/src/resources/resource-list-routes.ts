// `GET …/resources` of a subscription or a resource group (`az resource list`): every resource
// the caller may read there, filtered, expanded and paged as Resource Manager does it.
import type { FastifyRequest } from 'fastify';
import { ArmError } from '../api/arm-error.js';
import type { Caller } from '../api/caller.js';
import type { RouteSpec } from '../api/route-spec.js';
import { EXTENSION_ACTIONS } from '../extensions/extension-resource.js';
import { checkResourceGroupName, checkSubscriptionId } from './arm-names.js';
import { DEFAULT_PAGE_SIZE, encodeSkipToken, nextLinkFor, skipTokenOf } from './arm-paging.js';
import { param, queryValue } from './arm-request.js';
import type { ArmServices } from './arm-routes.js';
import {
  requireResourceGroup,
  requireSubscription,
  resourceGroupScope,
  subscriptionScope,
} from './arm-scope.js';
import {
  listResources,
  renderGenericResource,
  type GenericResource,
  type ResourceCursor,
} from './generic-resources.js';
import { MACHINE_ACTIONS } from './machine-routes.js';
import { RESOURCE_GROUP_API_VERSIONS } from './resource-group-routes.js';
import { parseResourceListQuery, type ResourceListQuery } from './resource-list-query.js';

export const RESOURCE_LIST_ACTIONS = {
  subscription: 'Microsoft.Resources/subscriptions/resources/read',
  resourceGroup: 'Microsoft.Resources/subscriptions/resourceGroups/resources/read',
} as const;

/** The read action of each listed type: an item shows only if the caller may read it. */
const READ_ACTION: Record<string, string> = {
  'microsoft.hybridcompute/machines': MACHINE_ACTIONS.read,
  'microsoft.hybridcompute/machines/extensions': EXTENSION_ACTIONS.read,
};

const subscriptionAt = (request: FastifyRequest): string =>
  subscriptionScope(checkSubscriptionId(param(request, 'subscriptionId')));
const groupAt = (request: FastifyRequest): string =>
  resourceGroupScope(
    checkSubscriptionId(param(request, 'subscriptionId')),
    checkResourceGroupName(param(request, 'resourceGroupName')),
  );

export function resourceListRoutes(services: ArmServices): RouteSpec[] {
  const { db, authorizer } = services;
  const pageSize = services.pageSize ?? DEFAULT_PAGE_SIZE;

  async function list(
    request: FastifyRequest,
    caller: Caller | undefined,
    subscriptionId: string,
    resourceGroup: string | undefined,
  ): Promise<unknown> {
    const query = parseResourceListQuery({
      filter: queryValue(request, '$filter'),
      expand: queryValue(request, '$expand'),
      top: queryValue(request, '$top'),
    });
    const group = resourceGroup ?? query.filter.resourceGroup;
    const cursor = cursorOf(skipTokenOf(request));
    const { resources, next } = await listResources(
      db,
      { subscriptionId, resourceGroup: group },
      cursor,
      Math.min(query.top ?? pageSize, pageSize),
      (resource) =>
        matches(resource, query.filter) &&
        caller !== undefined &&
        authorizer.isAllowed(
          caller.principalId,
          READ_ACTION[resource.type.toLowerCase()] ?? '',
          resource.key,
        ),
    );
    return {
      value: resources.map((r) => renderGenericResource(r, query.expand)),
      ...(next === undefined
        ? {}
        : {
            nextLink: nextLinkFor(
              services.publicUrl,
              request,
              encodeSkipToken(`${next.machineKey}\n${next.childKey}`),
            ),
          }),
    };
  }

  const common = { method: 'GET' as const, apiVersions: RESOURCE_GROUP_API_VERSIONS };
  return [
    {
      ...common,
      url: '/subscriptions/:subscriptionId/resources',
      access: { kind: 'action', action: RESOURCE_LIST_ACTIONS.subscription, scope: subscriptionAt },
      async handler({ request, caller }) {
        const subscriptionId = checkSubscriptionId(param(request, 'subscriptionId'));
        await requireSubscription(db, subscriptionId);
        return list(request, caller, subscriptionId, undefined);
      },
    },
    {
      ...common,
      url: '/subscriptions/:subscriptionId/resourceGroups/:resourceGroupName/resources',
      access: { kind: 'action', action: RESOURCE_LIST_ACTIONS.resourceGroup, scope: groupAt },
      async handler({ request, caller }) {
        const subscriptionId = checkSubscriptionId(param(request, 'subscriptionId'));
        const group = await requireResourceGroup(
          db,
          subscriptionId,
          param(request, 'resourceGroupName'),
        );
        return list(request, caller, subscriptionId, group.name);
      },
    },
  ];
}

function cursorOf(token: string | undefined): ResourceCursor | undefined {
  if (token === undefined) return undefined;
  const [machineKey, childKey, ...rest] = token.split('\n');
  if (machineKey === undefined || childKey === undefined || rest.length > 0) {
    throw new ArmError(
      'BadRequest',
      "The $skiptoken is not one this list issued; pass back the one from the previous page's nextLink.",
      { target: '$skiptoken' },
    );
  }
  return { machineKey, childKey };
}

/** Names and types compare case-insensitively, locations also ignore spaces, tag values exactly. */
function matches(resource: GenericResource, filter: ResourceListQuery['filter']): boolean {
  const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
  if (filter.resourceGroup !== undefined && !same(resource.resourceGroupKey, filter.resourceGroup))
    return false;
  if (filter.resourceType !== undefined && !same(resource.type, filter.resourceType)) return false;
  if (filter.name !== undefined && !same(resource.name, filter.name)) return false;
  const place = (l: string) => l.replace(/\s+/g, '').toLowerCase();
  if (filter.location !== undefined && place(resource.location) !== place(filter.location))
    return false;
  if (filter.tagName !== undefined) {
    const tag = Object.entries(resource.tags).find(([k]) => same(k, filter.tagName ?? ''));
    if (tag === undefined) return false;
    if (filter.tagValue !== undefined && tag[1] !== filter.tagValue) return false;
  }
  return true;
}
