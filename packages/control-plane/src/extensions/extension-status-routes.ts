// The agent's extension status report: completes the InProgress operation it names (a remove
// that succeeded deletes the resource) or only refreshes the instance view. The outcome is
// also written to the activity log against the extension, where operators look for it.
import { ArmError } from '../api/arm-error.js';
import type { RouteSpec } from '../api/route-spec.js';
import {
  asObject,
  bodyObject,
  field,
  invalidContent,
  optionalString,
  rejectUnknownFields,
  requiredString,
  type JsonObject,
} from '../resources/arm-request.js';
import { checkGuid } from '../resources/arm-names.js';
import { checkExtensionName } from './extension-input.js';
import { expireOverdueOperations, type OperationError } from './extension-operations.js';
import { AGENT_API_VERSIONS, EXTENSION_ACTIONS, extensionIdOf } from './extension-resource.js';
import { bumpGeneration, findExtension } from './extension-store.js';
import { operationWaitersOf } from './operation-waiters.js';
import {
  MACHINE_PATH,
  machineAt,
  machineTargetOf,
  type ExtensionServices,
} from './extension-target.js';

interface StatusReport {
  name: string;
  operationId: string | undefined;
  sequence: number | undefined;
  result: 'Succeeded' | 'Failed';
  error: OperationError | undefined;
  instanceView: JsonObject | undefined;
}

export function extensionStatusRoutes(services: ExtensionServices): RouteSpec[] {
  const { db, clock, waiters } = services;
  return [
    {
      apiVersions: AGENT_API_VERSIONS,
      method: 'POST',
      url: `${MACHINE_PATH}/extensionStatus`,
      access: { kind: 'action', action: EXTENSION_ACTIONS.status, scope: machineAt },
      // A completed operation is logged below as the extension write or delete it finished;
      // the report itself, like a heartbeat, is not an operator's action.
      activityLog: false,
      async handler({ request, caller, correlationId }) {
        const target = machineTargetOf(request);
        const report = parseStatusReport(bodyObject(request));
        const extensionId = extensionIdOf(target.machineId, report.name);
        await expireOverdueOperations(db, clock, { extensionId });
        const extension = await findExtension(db, extensionId);
        const now = new Date(clock.now()).toISOString();
        const instanceView =
          report.instanceView === undefined ? undefined : JSON.stringify(report.instanceView);
        if (report.operationId === undefined) {
          if (extension === undefined) {
            throw new ArmError(
              'ResourceNotFound',
              `The machine '${target.machineName}' has no extension '${report.name}'.`,
              { target: 'name' },
            );
          }
          if (instanceView !== undefined) {
            await db
              .updateTable('machine_extensions')
              .set({ instance_view: instanceView, updated_at: now })
              .where('id', '=', extensionId)
              .execute();
          }
          return { accepted: true };
        }
        const operationId = report.operationId;
        const completed = await db.transaction().execute(async (trx) => {
          let update = trx
            .updateTable('extension_operations')
            .set({
              status: report.result,
              error: report.error === undefined ? null : JSON.stringify(report.error),
              ended_at: now,
            })
            .where('id', '=', operationId)
            .where('extension_id', '=', extensionId)
            .where('status', '=', 'InProgress');
          if (report.sequence !== undefined)
            update = update.where('sequence', '=', report.sequence);
          const done = await update.returning(['kind', 'sequence']).executeTakeFirst();
          if (done === undefined) return undefined;
          if (done.kind === 'remove' && report.result === 'Succeeded') {
            await trx.deleteFrom('machine_extensions').where('id', '=', extensionId).execute();
          } else {
            await trx
              .updateTable('machine_extensions')
              .set({
                provisioning_state: report.result,
                ...(instanceView === undefined ? {} : { instance_view: instanceView }),
                updated_at: now,
              })
              .where('id', '=', extensionId)
              .execute();
          }
          await bumpGeneration(trx, target.machineId);
          return done;
        });
        if (completed === undefined) {
          throw new ArmError(
            'Conflict',
            `The operation '${operationId}' is not in progress for extension '${report.name}' of machine '${target.machineName}'${report.sequence === undefined ? '' : ` at sequence ${report.sequence}`}; it is unknown, already finished or superseded. Read the goal state again.`,
            { target: 'operationId' },
          );
        }
        waiters.wake(target.machineId);
        operationWaitersOf(db).wake(operationId);
        await services.activityLog.record({
          correlationId,
          caller: caller?.name ?? 'unknown',
          operationName:
            completed.kind === 'remove' ? EXTENSION_ACTIONS.delete : EXTENSION_ACTIONS.write,
          status: report.result,
          subStatus: report.error?.code ?? report.result,
          resourceId: extensionId,
          httpMethod: request.method,
          clientIp: request.ip,
          properties: {
            operationId,
            kind: completed.kind,
            sequence: Number(completed.sequence),
            ...(report.error === undefined ? {} : { message: report.error.message }),
          },
        });
        return { accepted: true };
      },
    },
  ];
}

function parseStatusReport(body: JsonObject): StatusReport {
  rejectUnknownFields(
    body,
    ['name', 'operationId', 'sequence', 'result', 'error', 'instanceView'],
    '',
  );
  const name = checkExtensionName(requiredString(body, 'name', 'name', 64));
  const rawId = optionalString(body, 'operationId', 'operationId', 64);
  const sequence = field(body, 'sequence');
  if (sequence !== undefined && sequence !== null && !Number.isSafeInteger(sequence)) {
    throw invalidContent('sequence', 'must be a whole number');
  }
  const result = field(body, 'result');
  if (result !== 'Succeeded' && result !== 'Failed') {
    throw invalidContent('result', "must be 'Succeeded' or 'Failed'");
  }
  const rawError = field(body, 'error');
  let error: OperationError | undefined;
  if (rawError !== undefined && rawError !== null) {
    const object = asObject(rawError, 'error');
    error = {
      code: requiredString(object, 'code', 'error.code', 128),
      message: requiredString(object, 'message', 'error.message', 4096),
    };
  }
  if (result === 'Failed' && error === undefined) {
    throw invalidContent('error', "is required when result is 'Failed'");
  }
  const view = field(body, 'instanceView');
  const instanceView =
    view === undefined || view === null ? undefined : asObject(view, 'instanceView');
  if (instanceView !== undefined && JSON.stringify(instanceView).length > 64 * 1024) {
    throw invalidContent('instanceView', 'is larger than 64 KiB');
  }
  return {
    name,
    operationId:
      rawId === undefined ? undefined : checkGuid(rawId, 'operationId', 'InvalidRequestContent'),
    sequence: typeof sequence === 'number' ? sequence : undefined,
    result,
    error: result === 'Failed' ? error : undefined,
    instanceView,
  };
}
