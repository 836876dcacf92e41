// Machine metrics sent by the monitoring agent, served in the Azure Monitor shape (docs/extensions.md).
import type { FastifyRequest } from 'fastify';
import type { RouteSpec } from '../api/route-spec.js';
import {
  checkMachineName,
  checkResourceGroupName,
  checkSubscriptionId,
} from '../resources/arm-names.js';
import { bodyObject, param, queryValue } from '../resources/arm-request.js';
import type { ArmServices } from '../resources/arm-routes.js';
import { machineScope, parseScope, requireScopeExists } from '../resources/arm-scope.js';
import { MACHINE_API_VERSIONS } from '../resources/machine-routes.js';
import { parseMetricSamples } from './metric-samples.js';
import { parseMetricsQuery } from './metrics-query.js';
import { metricsResponse } from './metrics-response.js';
import { insertMetricSamples, readMetricSamples } from './metrics-store.js';

export const METRICS_ACTIONS = {
  write: 'Microsoft.Insights/metrics/write',
  read: 'Microsoft.Insights/metrics/read',
} as const;

/** The machine API's versions, and Azure Monitor's metrics versions for its own clients. */
export const METRICS_READ_API_VERSIONS = [
  ...MACHINE_API_VERSIONS,
  '2018-01-01',
  '2019-07-01',
  '2021-05-01',
  '2023-10-01',
  '2024-02-01',
] as const;

const URL =
  '/subscriptions/:subscriptionId/resourceGroups/:resourceGroupName/providers/Microsoft.HybridCompute/machines/:machineName/providers/Microsoft.Insights/metrics';

const machineAt = (request: FastifyRequest): string =>
  machineScope(
    checkSubscriptionId(param(request, 'subscriptionId')),
    checkResourceGroupName(param(request, 'resourceGroupName')),
    checkMachineName(param(request, 'machineName')),
  );

export function metricsRoutes(services: ArmServices): RouteSpec[] {
  const { db, clock } = services;

  async function machineOf(machineId: string) {
    const machine = await db
      .selectFrom('machines')
      .select(['name', 'subscription_id', 'location'])
      .where('id', '=', machineId)
      .executeTakeFirst();
    if (machine !== undefined) return machine;
    // Names what is missing: the subscription, the group or the machine.
    await requireScopeExists(db, parseScope(machineId));
    throw new Error(`machine ${machineId} vanished`);
  }

  return [
    {
      method: 'POST',
      url: URL,
      apiVersions: MACHINE_API_VERSIONS,
      access: { kind: 'action', action: METRICS_ACTIONS.write, scope: machineAt },
      // Like heartbeats: an agent's routine reports would bury operators' actions.
      activityLog: false,
      async handler({ request }) {
        const machineId = machineAt(request);
        const now = clock.now();
        const samples = parseMetricSamples(bodyObject(request), now);
        await machineOf(machineId);
        const { stored, ignored } = await insertMetricSamples(db, machineId, samples, now);
        return { accepted: stored, ignored };
      },
    },
    {
      method: 'GET',
      url: URL,
      apiVersions: METRICS_READ_API_VERSIONS,
      access: { kind: 'action', action: METRICS_ACTIONS.read, scope: machineAt },
      async handler({ request }) {
        const machineId = machineAt(request);
        const query = parseMetricsQuery(
          {
            timespan: queryValue(request, 'timespan'),
            metricnames: queryValue(request, 'metricnames'),
            interval: queryValue(request, 'interval'),
            aggregation: queryValue(request, 'aggregation'),
          },
          clock.now(),
        );
        const machine = await machineOf(machineId);
        const resourceGroup = param(request, 'resourceGroupName');
        return metricsResponse({
          resourceId: `/subscriptions/${machine.subscription_id}/resourceGroups/${resourceGroup}/providers/Microsoft.HybridCompute/machines/${machine.name}`,
          location: machine.location,
          query,
          samples: await readMetricSamples(db, machineId, query.startMs, query.endMs),
        });
      },
    },
  ];
}
