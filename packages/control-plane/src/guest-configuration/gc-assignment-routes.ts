// Operators' guest configuration assignments on a machine: read, write, delete and list (per
// machine, resource group and subscription). Assignments policy made are policy's to change.
import { ArmError } from '../api/arm-error.js';
import type { RouteSpec } from '../api/route-spec.js';
import { machineAt, machineTargetOf, requireMachine } from '../extensions/extension-target.js';
import { nextLinkFor, pageOf, skipTokenOf } from '../resources/arm-paging.js';
import { bodyObject, param } from '../resources/arm-request.js';
import { checkResourceGroupName, checkSubscriptionId } from '../resources/arm-names.js';
import {
  requireResourceGroup,
  requireSubscription,
  resourceGroupScope,
  subscriptionScope,
} from '../resources/arm-scope.js';
import { parseGcAssignmentPut } from './gc-assignment-input.js';
import {
  GC_ACTIONS,
  GC_API_VERSIONS,
  renderGcAssignment,
  type GcAssignmentRow,
} from './gc-assignment-resource.js';
import { gcAssignmentsChanged } from './gc-changes.js';
import { resolveGcPackage } from './gc-package.js';
import {
  GC_ASSIGNMENT_PATH,
  GC_COLLECTION,
  gcAssignmentAt,
  gcAssignmentNotFound,
  gcTargetOf,
  type GcServices,
} from './gc-services.js';
import {
  deleteGcAssignment,
  findGcAssignment,
  gcMachineState,
  latestReports,
  listGcAssignments,
  putGcAssignment,
  type GcListScope,
} from './gc-store.js';

const MACHINE_COLLECTION = `/subscriptions/:subscriptionId/resourceGroups/:resourceGroupName/providers/Microsoft.HybridCompute/machines/:machineName${GC_COLLECTION}`;

export function gcAssignmentRoutes(services: GcServices): RouteSpec[] {
  const { db, clock } = services;
  const common = { apiVersions: GC_API_VERSIONS };

  /** Renders rows with their latest reports and their machines' local switch. */
  const render = async (rows: GcAssignmentRow[]): Promise<object[]> => {
    const latest = await latestReports(
      db,
      rows.map((r) => r.id),
    );
    const disabled = new Map<string, string | null>();
    for (const machineId of new Set(rows.map((r) => r.machine_id))) {
      disabled.set(machineId, (await gcMachineState(db, machineId)).disabledReason);
    }
    return rows.map((row) =>
      renderGcAssignment(row, latest.get(row.id), disabled.get(row.machine_id) ?? null),
    );
  };

  const list = async (
    request: Parameters<RouteSpec['handler']>[0]['request'],
    scope: GcListScope,
  ): Promise<object> => {
    const rows = await listGcAssignments(db, scope, skipTokenOf(request), services.pageSize + 1);
    const rendered = await render(rows.slice(0, services.pageSize));
    return pageOf(
      rows.map((row, i) => ({ row, body: rendered[i] })),
      services.pageSize,
      (item) => item.row.id,
      (item) => item.body,
      (token) => nextLinkFor(services.publicUrl, request, token),
    );
  };

  return [
    {
      ...common,
      method: 'GET',
      url: GC_ASSIGNMENT_PATH,
      access: { kind: 'action', action: GC_ACTIONS.read, scope: gcAssignmentAt },
      async handler({ request }) {
        const target = gcTargetOf(request);
        const row = await findGcAssignment(db, target.assignmentId);
        if (row === undefined) {
          await requireMachine(db, target);
          throw gcAssignmentNotFound(target);
        }
        const [body] = await render([row]);
        return body;
      },
    },
    {
      ...common,
      method: 'PUT',
      url: GC_ASSIGNMENT_PATH,
      access: { kind: 'action', action: GC_ACTIONS.write, scope: gcAssignmentAt },
      async handler({ request, reply }) {
        const target = gcTargetOf(request);
        const input = parseGcAssignmentPut(bodyObject(request), target.name);
        await requireMachine(db, target);
        const existing = await findGcAssignment(db, target.assignmentId);
        refuseIfPolicyOwned(existing);
        const found = await resolveGcPackage(
          db,
          services.publicUrl,
          input.configurationName,
          input.version,
        );
        if (input.contentHash !== undefined && input.contentHash !== found.contentHash) {
          throw new ArmError(
            'InvalidRequestContent',
            `The request content is invalid: 'properties.guestConfiguration.contentHash' is ${input.contentHash}, but the repository's package ${found.publisher}/${input.configurationName} ${found.version} has ${found.contentHash}.`,
            { target: 'properties.guestConfiguration.contentHash' },
          );
        }
        const now = new Date(clock.now()).toISOString();
        const sameContent =
          existing !== undefined &&
          existing.content_hash === found.contentHash &&
          existing.assignment_type === input.assignmentType &&
          existing.parameters === JSON.stringify(input.parameters);
        await putGcAssignment(db, {
          id: target.assignmentId,
          machine_id: target.machineId,
          subscription_id: target.subscriptionId.toLowerCase(),
          resource_group: target.resourceGroup.toLowerCase(),
          name: existing?.name ?? target.name,
          configuration_name: input.configurationName,
          configuration_version: found.version,
          publisher: found.publisher,
          content_uri: found.contentUri,
          content_hash: found.contentHash,
          assignment_type: input.assignmentType,
          parameters: JSON.stringify(input.parameters),
          frequency_minutes: input.frequencyMinutes,
          context: input.context,
          policy_assignment_ids: '[]',
          // What is evaluated changed: the last result no longer says anything about it.
          compliance_status: sameContent ? existing.compliance_status : 'Pending',
          last_checked: sameContent ? existing.last_checked : null,
          latest_report_id: sameContent ? existing.latest_report_id : null,
          provisioning_state: 'Succeeded',
          created_at: existing?.created_at ?? now,
          updated_at: now,
        });
        await gcAssignmentsChanged(services, target.machineId);
        reply.code(existing === undefined ? 201 : 200);
        const row = await findGcAssignment(db, target.assignmentId);
        const [body] = await render(row === undefined ? [] : [row]);
        return body;
      },
    },
    {
      ...common,
      method: 'DELETE',
      url: GC_ASSIGNMENT_PATH,
      access: { kind: 'action', action: GC_ACTIONS.delete, scope: gcAssignmentAt },
      async handler({ request, reply }) {
        const target = gcTargetOf(request);
        const existing = await findGcAssignment(db, target.assignmentId);
        if (existing === undefined) {
          await requireMachine(db, target);
          reply.code(204);
          return undefined;
        }
        refuseIfPolicyOwned(existing);
        await deleteGcAssignment(db, target.assignmentId);
        await gcAssignmentsChanged(services, target.machineId);
        return undefined;
      },
    },
    {
      ...common,
      method: 'GET',
      url: MACHINE_COLLECTION,
      access: { kind: 'action', action: GC_ACTIONS.read, scope: machineAt },
      async handler({ request }) {
        const target = machineTargetOf(request);
        await requireMachine(db, target);
        return list(request, {
          subscriptionId: target.subscriptionId,
          machineId: target.machineId,
        });
      },
    },
    {
      ...common,
      method: 'GET',
      url: `/subscriptions/:subscriptionId/resourceGroups/:resourceGroupName${GC_COLLECTION}`,
      access: {
        kind: 'action',
        action: GC_ACTIONS.read,
        scope: (request) =>
          resourceGroupScope(
            checkSubscriptionId(param(request, 'subscriptionId')),
            checkResourceGroupName(param(request, 'resourceGroupName')),
          ),
      },
      async handler({ request }) {
        const subscriptionId = checkSubscriptionId(param(request, 'subscriptionId'));
        const resourceGroup = checkResourceGroupName(param(request, 'resourceGroupName'));
        await requireResourceGroup(db, subscriptionId, resourceGroup);
        return list(request, { subscriptionId, resourceGroup });
      },
    },
    {
      ...common,
      method: 'GET',
      url: `/subscriptions/:subscriptionId${GC_COLLECTION}`,
      access: {
        kind: 'action',
        action: GC_ACTIONS.read,
        scope: (request) =>
          subscriptionScope(checkSubscriptionId(param(request, 'subscriptionId'))),
      },
      async handler({ request }) {
        const subscriptionId = checkSubscriptionId(param(request, 'subscriptionId'));
        await requireSubscription(db, subscriptionId);
        return list(request, { subscriptionId });
      },
    },
  ];
}

/** An assignment a policy assignment made is changed or removed through that policy assignment. */
function refuseIfPolicyOwned(existing: GcAssignmentRow | undefined): void {
  if (existing === undefined) return;
  const owners = JSON.parse(existing.policy_assignment_ids) as string[];
  if (owners.length === 0) return;
  throw new ArmError(
    'Conflict',
    `The guest configuration assignment '${existing.name}' was made for the policy assignment ${owners.join(', ')}; change or remove that policy assignment (or exclude this machine with notScopes) instead.`,
  );
}
