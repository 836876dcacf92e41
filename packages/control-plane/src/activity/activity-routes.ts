// The activity log query (`Microsoft.Insights/eventtypes/management/values`): events of a
// subscription, or of one resource group or resource in it, over a time range (B4).
import type { FastifyRequest } from 'fastify';
import type { RouteSpec } from '../api/route-spec.js';
import { checkSubscriptionId } from '../resources/arm-names.js';
import { DEFAULT_PAGE_SIZE, nextLinkFor } from '../resources/arm-paging.js';
import { param, queryValue } from '../resources/arm-request.js';
import type { ArmServices } from '../resources/arm-routes.js';
import {
  requireSubscription,
  resourceGroupScope,
  subscriptionScope,
} from '../resources/arm-scope.js';
import type { Clock } from '../clock.js';
import { parseActivityFilter, type ActivityFilter } from './activity-filter.js';

export const ACTIVITY_API_VERSIONS = ['2015-04-01'] as const;
export const ACTIVITY_READ = 'Microsoft.Insights/eventtypes/values/read';

const URL =
  '/subscriptions/:subscriptionId/providers/Microsoft.Insights/eventtypes/management/values';

function filterOf(
  request: FastifyRequest,
  clock: Clock,
): { subscriptionId: string; filter: ActivityFilter } {
  const subscriptionId = checkSubscriptionId(param(request, 'subscriptionId'));
  return {
    subscriptionId,
    filter: parseActivityFilter(queryValue(request, '$filter'), subscriptionId, clock.now()),
  };
}

export function activityRoutes(services: ArmServices): RouteSpec[] {
  const { db, clock, activityLog } = services;
  const pageSize = services.pageSize ?? DEFAULT_PAGE_SIZE;
  return [
    {
      method: 'GET',
      url: URL,
      apiVersions: ACTIVITY_API_VERSIONS,
      // The narrowest scope the filter asks about: a Reader of one resource group may read
      // that group's events without seeing the rest of the subscription's.
      access: {
        kind: 'action',
        action: ACTIVITY_READ,
        scope: (request) => {
          const { subscriptionId, filter } = filterOf(request, clock);
          if (filter.resourceUri !== undefined) return filter.resourceUri;
          if (filter.resourceGroup !== undefined)
            return resourceGroupScope(subscriptionId, filter.resourceGroup);
          return subscriptionScope(subscriptionId);
        },
      },
      async handler({ request }) {
        const { subscriptionId, filter } = filterOf(request, clock);
        await requireSubscription(db, subscriptionId);
        const skipToken = queryValue(request, '$skiptoken');
        const page = await activityLog.query({
          subscriptionId,
          from: filter.from,
          to: filter.to,
          pageSize,
          ...(filter.resourceGroup === undefined ? {} : { resourceGroup: filter.resourceGroup }),
          ...(filter.resourceUri === undefined ? {} : { resourceUri: filter.resourceUri }),
          ...(skipToken === undefined ? {} : { skipToken }),
        });
        return {
          value: page.value,
          ...(page.skipToken === undefined
            ? {}
            : { nextLink: nextLinkFor(services.publicUrl, request, page.skipToken) }),
        };
      },
    },
  ];
}
