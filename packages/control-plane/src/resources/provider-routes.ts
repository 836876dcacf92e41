// `GET /subscriptions/{s}/providers[/{namespace}]` and `POST …/{namespace}/register`
// (`az provider list|show|register`): the namespaces, resource types and api-versions this
// server serves, read from its own route table so that the answer cannot drift from it.
import type { FastifyRequest } from 'fastify';
import { ArmError } from '../api/arm-error.js';
import type { RouteSpec } from '../api/route-spec.js';
import { checkSubscriptionId } from './arm-names.js';
import { param } from './arm-request.js';
import type { ArmServices } from './arm-routes.js';
import { requireSubscription, subscriptionScope } from './arm-scope.js';
import { RESOURCE_GROUP_API_VERSIONS } from './resource-group-routes.js';

export const PROVIDER_ACTIONS = {
  read: 'Microsoft.Resources/subscriptions/providers/read',
  register: 'Microsoft.Resources/subscriptions/providers/register/action',
} as const;

export interface ProviderResourceType {
  resourceType: string;
  apiVersions: string[];
}

export interface ProviderDescription {
  namespace: string;
  resourceTypes: ProviderResourceType[];
}

const PROVIDERS = '/subscriptions/:subscriptionId/providers';

/**
 * The providers a route table serves. A route's namespace is the segment after its last
 * `/providers/`; its resource type is the named segments below that
 * (`machines/:machineName/extensions/:extensionName` → `machines/extensions`). POST routes are
 * actions on types their GET routes already name, so they add none.
 */
export function providersOf(routes: readonly RouteSpec[]): ProviderDescription[] {
  const types = new Map<string, Map<string, { name: string; versions: Set<string> }>>();
  const namespaces = new Map<string, string>();
  for (const route of routes) {
    if (route.apiVersions === undefined || route.method === 'POST') continue;
    const below = route.url.split('/providers/').slice(1).at(-1);
    const [namespace = '', ...segments] = below?.split('/') ?? [];
    if (!/^[A-Za-z]+\.[A-Za-z.]+$/.test(namespace)) continue;
    const named = segments.filter((segment) => !segment.startsWith(':'));
    if (named.length === 0) continue;
    const key = namespace.toLowerCase();
    namespaces.set(key, namespaces.get(key) ?? namespace);
    const byType = types.get(key) ?? new Map<string, { name: string; versions: Set<string> }>();
    types.set(key, byType);
    const typeName = named.join('/');
    const entry = byType.get(typeName.toLowerCase()) ?? { name: typeName, versions: new Set() };
    byType.set(typeName.toLowerCase(), entry);
    for (const version of route.apiVersions) entry.versions.add(version);
  }
  return [...types.entries()]
    .map(([key, byType]) => ({
      namespace: namespaces.get(key) ?? key,
      resourceTypes: [...byType.values()]
        .map((t) => ({ resourceType: t.name, apiVersions: [...t.versions].sort().reverse() }))
        .sort((a, b) => a.resourceType.localeCompare(b.resourceType)),
    }))
    .sort((a, b) => a.namespace.localeCompare(b.namespace));
}

const subscriptionAt = (request: FastifyRequest): string =>
  subscriptionScope(checkSubscriptionId(param(request, 'subscriptionId')));

/** `served` is read when a request comes, so that it may include these very routes. */
export function providerRoutes(
  services: ArmServices,
  served: () => readonly RouteSpec[],
): RouteSpec[] {
  const { db } = services;
  let cached: ProviderDescription[] | undefined;
  const providers = () => (cached ??= providersOf(served()));
  const find = (namespace: string): ProviderDescription => {
    const found = providers().find((p) => p.namespace.toLowerCase() === namespace.toLowerCase());
    if (found === undefined) {
      throw new ArmError(
        'InvalidResourceNamespace',
        `The resource namespace '${namespace.slice(0, 100)}' is invalid or not served here; this server serves ${providers()
          .map((p) => p.namespace)
          .join(', ')}.`,
        { target: 'resourceProviderNamespace' },
      );
    }
    return found;
  };
  const common = { apiVersions: RESOURCE_GROUP_API_VERSIONS };
  const read = { kind: 'action' as const, action: PROVIDER_ACTIONS.read, scope: subscriptionAt };
  return [
    {
      ...common,
      method: 'GET',
      url: PROVIDERS,
      access: read,
      async handler({ request }) {
        const subscriptionId = checkSubscriptionId(param(request, 'subscriptionId'));
        await requireSubscription(db, subscriptionId);
        return { value: providers().map((p) => renderProvider(subscriptionId, p)) };
      },
    },
    {
      ...common,
      method: 'GET',
      url: `${PROVIDERS}/:resourceProviderNamespace`,
      access: read,
      async handler({ request }) {
        const subscriptionId = checkSubscriptionId(param(request, 'subscriptionId'));
        await requireSubscription(db, subscriptionId);
        const namespace = param(request, 'resourceProviderNamespace');
        return renderProvider(subscriptionId, find(namespace));
      },
    },
    {
      // Every namespace served is always registered; registering says so and changes nothing.
      ...common,
      method: 'POST',
      url: `${PROVIDERS}/:resourceProviderNamespace/register`,
      access: { kind: 'action', action: PROVIDER_ACTIONS.register, scope: subscriptionAt },
      async handler({ request }) {
        const subscriptionId = checkSubscriptionId(param(request, 'subscriptionId'));
        await requireSubscription(db, subscriptionId);
        const namespace = param(request, 'resourceProviderNamespace');
        return renderProvider(subscriptionId, find(namespace));
      },
    },
  ];
}

function renderProvider(subscriptionId: string, provider: ProviderDescription): unknown {
  return {
    id: `/subscriptions/${subscriptionId}/providers/${provider.namespace}`,
    namespace: provider.namespace,
    registrationState: 'Registered',
    registrationPolicy: 'RegistrationRequired',
    resourceTypes: provider.resourceTypes.map((t) => ({
      resourceType: t.resourceType,
      locations: [],
      apiVersions: t.apiVersions,
      capabilities: 'None',
    })),
  };
}
