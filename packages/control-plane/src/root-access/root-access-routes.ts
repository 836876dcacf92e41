// `GET {machine}/providers/Tether.Authorization/rootAccess`: who can run code as root on one
// machine through Tether, and `GET {subscription|group}/providers/Tether.Authorization/rootAccess`:
// the same, summed up per machine, a page at a time. Read like the access view.
import { parseAgentConfiguration, type AgentConfiguration } from '@tether/protocol';
import type { FastifyRequest } from 'fastify';
import type { RouteSpec } from '../api/route-spec.js';
import { ROLE_ASSIGNMENT_ACTIONS } from '../authorization/role-assignment-routes.js';
import { roleAssignmentId } from '../authorization/role-assignment-resource.js';
import { roleDefinitionId } from '../authorization/role-definition-id.js';
import { scopeAt, scopeOf } from '../authorization/scoped-routes.js';
import {
  checkMachineName,
  checkResourceGroupName,
  checkSubscriptionId,
} from '../resources/arm-names.js';
import { DEFAULT_PAGE_SIZE, nextLinkFor, pageOf, skipTokenOf } from '../resources/arm-paging.js';
import { param } from '../resources/arm-request.js';
import type { ArmServices } from '../resources/arm-routes.js';
import {
  machineScope,
  requireResourceGroup,
  requireScopeExists,
  resourceGroupScope,
  resourceNotFound,
} from '../resources/arm-scope.js';
import {
  DoorActionIndex,
  reachOf,
  rootAccessReport,
  type PrincipalFacts,
} from './root-access-report.js';
import { decideDoors } from './root-doors.js';
import { lastHeartbeatSql } from '../machines/liveness-log.js';

export const ROOT_ACCESS_API_VERSIONS = ['2026-11-01'] as const;

const SUFFIX = '/providers/Tether.Authorization/rootAccess';
const MACHINE =
  '/subscriptions/:subscriptionId/resourceGroups/:resourceGroupName/providers/Microsoft.HybridCompute/machines/:machineName';

const machineAt = (request: FastifyRequest): string =>
  machineScope(
    checkSubscriptionId(param(request, 'subscriptionId')),
    checkResourceGroupName(param(request, 'resourceGroupName')),
    checkMachineName(param(request, 'machineName')),
  );

function armMachineId(subscriptionId: string, group: string, name: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${group}/providers/Microsoft.HybridCompute/machines/${name}`;
}

/** The configuration a stored heartbeat report holds; undefined when none or unusable (fail closed). */
export function reportedConfiguration(report: string | null): AgentConfiguration | undefined {
  if (report === null) return undefined;
  try {
    const parsed = JSON.parse(report) as Record<string, unknown>;
    return parseAgentConfiguration(parsed['agentConfiguration']);
  } catch {
    return undefined;
  }
}

export function rootAccessRoutes(services: ArmServices): RouteSpec[] {
  const { db, authorizer } = services;
  const pageSize = services.pageSize ?? DEFAULT_PAGE_SIZE;
  const common = {
    method: 'GET' as const,
    apiVersions: ROOT_ACCESS_API_VERSIONS,
  };

  async function principalFacts(ids: readonly string[]): Promise<Map<string, PrincipalFacts>> {
    const keys = [...new Set(ids.map((id) => id.toLowerCase()))];
    if (keys.length === 0) return new Map();
    const rows = await db
      .selectFrom('principals')
      .select(['id', 'display_name', 'machine_id'])
      .where('id', 'in', keys)
      .execute();
    return new Map(
      rows.map((r) => [
        r.id.toLowerCase(),
        { displayName: r.display_name, machineIdentity: r.machine_id !== null },
      ]),
    );
  }

  const machineRoute: RouteSpec = {
    ...common,
    url: `${MACHINE}${SUFFIX}`,
    access: { kind: 'action', action: ROLE_ASSIGNMENT_ACTIONS.read, scope: machineAt },
    async handler({ request, scope }) {
      const subscriptionId = checkSubscriptionId(param(request, 'subscriptionId'));
      const group = await requireResourceGroup(
        db,
        subscriptionId,
        param(request, 'resourceGroupName'),
      );
      const row = await db
        .selectFrom('machines')
        .leftJoin('machine_agents', 'machine_agents.machine_id', 'machines.id')
        .select([
          'machines.id',
          'machines.name',
          'machine_agents.report',
          lastHeartbeatSql().as('last_heartbeat_at'),
        ])
        .where('machines.id', '=', scope)
        .executeTakeFirst();
      if (row === undefined) {
        throw resourceNotFound(
          `Microsoft.HybridCompute/machines/${param(request, 'machineName')}`,
          group.name,
        );
      }
      const configuration = reportedConfiguration(row.report ?? null);
      const entries = authorizer.accessAt(row.id);
      const facts = await principalFacts(
        entries.flatMap((e) =>
          e.viaGroup === undefined ? [e.principalId] : [e.principalId, e.viaGroup],
        ),
      );
      const report = rootAccessReport({
        machineName: row.name,
        configuration,
        reportedAt: configuration === undefined ? null : (row.last_heartbeat_at ?? null),
        entries,
        roleAllows: (role, action) => authorizer.roleAllows(role, action),
        principal: (id) => facts.get(id.toLowerCase()),
      });
      return {
        machineId: armMachineId(subscriptionId, group.name, row.name),
        localConfiguration: report.localConfiguration,
        doors: report.doors,
        principals: report.principals.map(({ grants, ...principal }) => ({
          ...principal,
          grants: grants.map((g) => ({
            roleName: g.roleName,
            roleDefinitionId: roleDefinitionId(g.assignedAt, g.roleDefinitionName),
            assignmentId: roleAssignmentId(g.assignedAt, g.assignmentName),
            assignedAt: g.assignedAt,
            actions: g.actions,
          })),
        })),
        heldOffCount: report.heldOffCount,
        nobody: report.nobody,
        summary: report.summary,
      };
    },
  };

  const fleetRoutes: RouteSpec[] = [
    '/subscriptions/:subscriptionId',
    '/subscriptions/:subscriptionId/resourceGroups/:resourceGroupName',
  ].map((prefix) => ({
    ...common,
    url: `${prefix}${SUFFIX}`,
    access: { kind: 'action', action: ROLE_ASSIGNMENT_ACTIONS.read, scope: scopeAt },
    async handler({ request }) {
      const parsed = scopeOf(request);
      await requireScopeExists(db, parsed);
      const subscriptionId = parsed.subscriptionId ?? '';
      let query = db
        .selectFrom('machines')
        .leftJoin('machine_agents', 'machine_agents.machine_id', 'machines.id')
        .select([
          'machines.id',
          'machines.name',
          'machines.resource_group',
          'machine_agents.report',
        ])
        .where('machines.subscription_id', '=', subscriptionId);
      if (parsed.resourceGroup !== undefined) {
        query = query.where('machines.resource_group', '=', parsed.resourceGroup);
      }
      const after = skipTokenOf(request);
      if (after !== undefined) query = query.where('machines.id', '>', after);
      const rows = await query
        .orderBy('machines.id')
        .limit(pageSize + 1)
        .execute();
      const groupIds = [
        ...new Set(rows.map((r) => resourceGroupScope(subscriptionId, r.resource_group))),
      ];
      const groups =
        groupIds.length === 0
          ? []
          : await db
              .selectFrom('resource_groups')
              .select(['id', 'name'])
              .where('id', 'in', groupIds)
              .execute();
      const groupName = new Map(groups.map((g) => [g.id, g.name]));
      const index = new DoorActionIndex((role, action) => authorizer.roleAllows(role, action));
      return pageOf(
        rows,
        pageSize,
        (r) => r.id,
        (r) => {
          const group =
            groupName.get(resourceGroupScope(subscriptionId, r.resource_group)) ?? r.resource_group;
          const configuration = reportedConfiguration(r.report ?? null);
          const doors = decideDoors(configuration);
          const { through } = reachOf(authorizer.accessAt(r.id), doors, index);
          return {
            machineId: armMachineId(subscriptionId, group, r.name),
            name: r.name,
            resourceGroup: group,
            reported: configuration !== undefined,
            openDoors: doors.filter((d) => d.open).map((d) => d.name),
            principalCount: through.size,
            nobody: through.size === 0,
          };
        },
        (token) => nextLinkFor(services.publicUrl, request, token),
      );
    },
  }));

  return [machineRoute, ...fleetRoutes];
}
