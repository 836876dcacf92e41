// Microsoft.Resources subscriptions: read-only here; `tether` creates them at set-up.
import type { FastifyRequest } from 'fastify';
import type { RouteSpec } from '../api/route-spec.js';
import type { SubscriptionsTable } from '../store/schema.js';
import { checkSubscriptionId } from './arm-names.js';
import { param } from './arm-request.js';
import type { ArmServices } from './arm-routes.js';
import { requireSubscription, subscriptionScope } from './arm-scope.js';

export const SUBSCRIPTION_API_VERSIONS = [
  '2016-06-01',
  '2019-11-01',
  '2020-01-01',
  '2021-01-01',
  '2022-12-01',
] as const;

const READ = 'Microsoft.Resources/subscriptions/read';

export function subscriptionRoutes(services: ArmServices): RouteSpec[] {
  const { db, authorizer } = services;
  return [
    {
      method: 'GET',
      url: '/subscriptions',
      // Like ARM, the list shows each caller the subscriptions it may read, so it needs no
      // scope of its own; the per-subscription filter below is that same check.
      access: { kind: 'authenticated' },
      apiVersions: SUBSCRIPTION_API_VERSIONS,
      async handler({ caller }) {
        const rows = await db
          .selectFrom('subscriptions')
          .selectAll()
          .orderBy('subscription_id')
          .execute();
        const visible = rows.filter(
          (row) =>
            caller !== undefined &&
            authorizer.isAllowed(caller.principalId, READ, `/subscriptions/${row.subscription_id}`),
        );
        return { value: visible.map((row) => toSubscription(row, tenantOf(caller?.claims))) };
      },
    },
    {
      method: 'GET',
      url: '/subscriptions/:subscriptionId',
      access: { kind: 'action', action: READ, scope: subscriptionAt },
      apiVersions: SUBSCRIPTION_API_VERSIONS,
      async handler({ request, caller }) {
        const id = checkSubscriptionId(param(request, 'subscriptionId'));
        await requireSubscription(db, id);
        const row = await db
          .selectFrom('subscriptions')
          .selectAll()
          .where('subscription_id', '=', id)
          .executeTakeFirstOrThrow();
        return toSubscription(row, tenantOf(caller?.claims));
      },
    },
  ];
}

const subscriptionAt = (request: FastifyRequest): string =>
  subscriptionScope(checkSubscriptionId(param(request, 'subscriptionId')));

function tenantOf(claims: Readonly<Record<string, unknown>> | undefined): string | undefined {
  const tid = claims?.['tid'];
  return typeof tid === 'string' ? tid : undefined;
}

function toSubscription(row: SubscriptionsTable, tenantId: string | undefined): unknown {
  return {
    id: `/subscriptions/${row.subscription_id}`,
    subscriptionId: row.subscription_id,
    tenantId,
    displayName: row.display_name,
    state: row.state,
    authorizationSource: 'RoleBased',
    subscriptionPolicies: {
      locationPlacementId: 'Public_2014-09-01',
      quotaId: 'Tether',
      spendingLimit: 'Off',
    },
  };
}
