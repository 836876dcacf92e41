// Compliance, the Microsoft.PolicyInsights way: policy states listed and summarized at a
// subscription, resource group or machine, and an evaluation asked for now.
import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ArmError } from '../api/arm-error.js';
import type { RouteSpec } from '../api/route-spec.js';
import { MACHINE_PATH, machineTargetOf, requireMachine } from '../extensions/extension-target.js';
import type { GcServices } from '../guest-configuration/gc-services.js';
import { updateGcMachine } from '../guest-configuration/gc-store.js';
import { checkResourceGroupName, checkSubscriptionId } from '../resources/arm-names.js';
import { param, queryValue } from '../resources/arm-request.js';
import {
  requireResourceGroup,
  requireSubscription,
  resourceGroupScope,
  subscriptionScope,
} from '../resources/arm-scope.js';
import { parseStateFilter } from './odata-filter.js';
import {
  POLICY_INSIGHTS_ACTIONS,
  POLICY_INSIGHTS_API_VERSIONS,
  renderPolicyState,
  type StateRow,
} from './policy-state-resource.js';
import { scopedStates, type StateScope } from './policy-state-query.js';
import { expireExemptions } from './policy-state-restate.js';
import { summarizeStates } from './policy-state-summary.js';

const INSIGHTS = '/providers/Microsoft.PolicyInsights';
const SCOPES = {
  subscription: '/subscriptions/:subscriptionId',
  resourceGroup: '/subscriptions/:subscriptionId/resourceGroups/:resourceGroupName',
  machine: MACHINE_PATH,
} as const;
type ScopeKind = keyof typeof SCOPES;
const MAX_TOP = 1000;
const ORDERABLE: Record<string, keyof StateRow> = {
  timestamp: 'timestamp',
  resourceid: 'machine_id',
  compliancestate: 'state',
  policyassignmentname: 'policy_assignment_name',
  policydefinitionreferenceid: 'reference_id',
};

function scopeOf(kind: ScopeKind, request: FastifyRequest): { id: string; scope: StateScope } {
  if (kind === 'machine') {
    const target = machineTargetOf(request);
    return {
      id: target.machineId,
      scope: { subscriptionId: target.subscriptionId, machineId: target.machineId },
    };
  }
  const subscriptionId = checkSubscriptionId(param(request, 'subscriptionId'));
  if (kind === 'subscription')
    return { id: subscriptionScope(subscriptionId), scope: { subscriptionId } };
  const resourceGroup = checkResourceGroupName(param(request, 'resourceGroupName'));
  return {
    id: resourceGroupScope(subscriptionId, resourceGroup),
    scope: { subscriptionId, resourceGroup },
  };
}

export function policyStatesRoutes(services: GcServices): RouteSpec[] {
  const { db, clock } = services;
  const common = { apiVersions: POLICY_INSIGHTS_API_VERSIONS };

  /** The scope exists; exemptions that have run out stop counting. */
  const prepare = async (kind: ScopeKind, request: FastifyRequest): Promise<StateScope> => {
    const { scope } = scopeOf(kind, request);
    if (kind === 'machine') await requireMachine(db, machineTargetOf(request));
    else if (scope.resourceGroup !== undefined)
      await requireResourceGroup(db, scope.subscriptionId, scope.resourceGroup);
    else await requireSubscription(db, scope.subscriptionId);
    await expireExemptions(db, new Date(clock.now()).toISOString());
    return scope;
  };

  const routes: RouteSpec[] = [];
  for (const kind of Object.keys(SCOPES) as ScopeKind[]) {
    const base = `${SCOPES[kind]}${INSIGHTS}/policyStates/latest`;
    const at = (request: FastifyRequest): string => scopeOf(kind, request).id;
    routes.push(
      {
        ...common,
        method: 'POST',
        url: `${base}/queryResults`,
        access: { kind: 'action', action: POLICY_INSIGHTS_ACTIONS.queryResults, scope: at },
        async handler({ request }) {
          const scope = await prepare(kind, request);
          const filter = parseStateFilter(queryValue(request, '$filter'));
          const top = topOf(queryValue(request, '$top'));
          const skip = skipOf(queryValue(request, '$skiptoken'));
          const [orderColumn, direction] = orderOf(queryValue(request, '$orderby'));
          const query = scopedStates(db, scope, filter);
          const count = await db
            .selectFrom(query.as('c'))
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow();
          const rows = (await query
            .orderBy(orderColumn, direction)
            .orderBy('machine_id')
            .orderBy('policy_assignment_id')
            .orderBy('reference_id')
            .limit(top)
            .offset(skip)
            .execute()) as StateRow[];
          const select = selectOf(queryValue(request, '$select'));
          const total = Number(count.n);
          const body: Record<string, unknown> = {
            '@odata.context': `${services.publicUrl}/$metadata#latest`,
            '@odata.count': rows.length,
            value: rows.map((row) => pick(renderPolicyState(row), select)),
          };
          if (skip + rows.length < total) {
            const url = new URL(`${services.publicUrl}${request.url}`);
            url.searchParams.set(
              '$skiptoken',
              Buffer.from(String(skip + rows.length)).toString('base64url'),
            );
            body['@odata.nextLink'] = url.toString();
          }
          return body;
        },
      },
      {
        ...common,
        method: 'POST',
        url: `${base}/summarize`,
        access: { kind: 'action', action: POLICY_INSIGHTS_ACTIONS.summarize, scope: at },
        async handler({ request }) {
          const scope = await prepare(kind, request);
          const filter = parseStateFilter(queryValue(request, '$filter'));
          const top = topOf(queryValue(request, '$top'));
          const summary = await summarizeStates(db, scope, filter, top);
          return {
            '@odata.context': `${services.publicUrl}/$metadata#summary`,
            '@odata.count': 1,
            value: [{ '@odata.id': null, ...summary }],
          };
        },
      },
      {
        ...common,
        method: 'POST',
        url: `${base}/triggerEvaluation`,
        access: { kind: 'action', action: POLICY_INSIGHTS_ACTIONS.triggerEvaluation, scope: at },
        async handler({ request, reply }) {
          const scope = await prepare(kind, request);
          let machines = db
            .selectFrom('machines')
            .select('id')
            .where('subscription_id', '=', scope.subscriptionId.toLowerCase());
          if (scope.resourceGroup !== undefined)
            machines = machines.where('resource_group', '=', scope.resourceGroup.toLowerCase());
          if (scope.machineId !== undefined) machines = machines.where('id', '=', scope.machineId);
          for (const { id } of await machines.execute()) {
            await updateGcMachine(db, id, { bumpEvaluation: true, bumpGeneration: true });
            services.waiters.wake(id);
          }
          const operation = `${scopeOf(kind, request).id}${INSIGHTS}/asyncOperationResults/${randomUUID()}`;
          void reply.header(
            'location',
            `${services.publicUrl}${operation}?api-version=${queryValue(request, 'api-version') ?? ''}`,
          );
          reply.code(202);
          return undefined;
        },
      },
      {
        ...common,
        method: 'GET',
        url: `${SCOPES[kind]}${INSIGHTS}/asyncOperationResults/:asyncOperationId`,
        access: { kind: 'action', action: POLICY_INSIGHTS_ACTIONS.operationResults, scope: at },
        // Machines are asked at once: the operation has finished by the time anyone looks.
        handler() {
          return Promise.resolve({ status: 'Succeeded' });
        },
      },
    );
  }
  return routes;
}

function topOf(raw: string | undefined): number {
  if (raw === undefined) return MAX_TOP;
  const value = /^\d{1,5}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= 1 && value <= MAX_TOP)) {
    throw new ArmError(
      'BadRequest',
      `The $top '${raw.slice(0, 20)}' must be a whole number from 1 to ${MAX_TOP}.`,
      {
        target: '$top',
      },
    );
  }
  return value;
}

function skipOf(raw: string | undefined): number {
  if (raw === undefined) return 0;
  const decoded = Buffer.from(raw, 'base64url').toString('utf8');
  if (!/^\d{1,9}$/.test(decoded)) {
    throw new ArmError(
      'BadRequest',
      `The $skiptoken '${raw.slice(0, 80)}' is not valid; pass back the one from @odata.nextLink.`,
      {
        target: '$skiptoken',
      },
    );
  }
  return Number(decoded);
}

function orderOf(raw: string | undefined): [keyof StateRow, 'asc' | 'desc'] {
  if (raw === undefined) return ['timestamp', 'desc'];
  const match = /^\s*(\w+)(?:\s+(asc|desc))?\s*$/i.exec(raw);
  const column = ORDERABLE[match?.[1]?.toLowerCase() ?? ''];
  if (match === null || column === undefined) {
    throw new ArmError(
      'BadRequest',
      `The $orderby '${raw.slice(0, 80)}' is not supported; order by one of timestamp, resourceId, complianceState, policyAssignmentName, policyDefinitionReferenceId, then asc or desc.`,
      { target: '$orderby' },
    );
  }
  return [column, match[2]?.toLowerCase() === 'asc' ? 'asc' : 'desc'];
}

function selectOf(raw: string | undefined): string[] | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  return raw.split(',').map((s) => s.trim().toLowerCase());
}

function pick(row: Record<string, unknown>, select: string[] | undefined): Record<string, unknown> {
  if (select === undefined) return row;
  return Object.fromEntries(Object.entries(row).filter(([k]) => select.includes(k.toLowerCase())));
}
