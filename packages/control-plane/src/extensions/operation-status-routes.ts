// Where ARM clients poll an extension operation: `operationStatuses/{id}` (Azure-AsyncOperation)
// and `operationResults/{id}` (the Location of a delete). Who may read it is decided by the
// extension it is about, so the check comes after the lookup. A read of a running operation is
// held until it ends or OPERATION_HOLD_MS pass, so the poll that follows a write answers as soon
// as the agent has reported.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ArmError } from '../api/arm-error.js';
import type { RouteContext, RouteSpec } from '../api/route-spec.js';
import { checkGuid, checkSubscriptionId } from '../resources/arm-names.js';
import { param } from '../resources/arm-request.js';
import { MACHINE_API_VERSIONS } from '../resources/machine-routes.js';
import {
  expireOverdueOperations,
  renderOperation,
  type OperationError,
} from './extension-operations.js';
import { EXTENSION_ACTIONS } from './extension-resource.js';
import { findOperation, type OperationRow } from './extension-store.js';
import type { ExtensionServices } from './extension-target.js';
import { OPERATION_HOLD_MS, operationWaitersOf } from './operation-waiters.js';

const LOCATION_PATH =
  '/subscriptions/:subscriptionId/providers/Microsoft.HybridCompute/locations/:location';

export function operationStatusRoutes(services: ExtensionServices): RouteSpec[] {
  const { db, clock } = services;
  const common = { apiVersions: MACHINE_API_VERSIONS };

  async function operationOf(context: RouteContext): Promise<OperationRow> {
    const { request } = context;
    const subscriptionId = checkSubscriptionId(param(request, 'subscriptionId'));
    const id = checkGuid(param(request, 'operationId'), 'operationId');
    const found = await findOperation(db, id);
    if (found === undefined || found.subscription_id !== subscriptionId) throw notFound(id);
    await context.demand(EXTENSION_ACTIONS.read, found.extension_id);
    await expireOverdueOperations(db, clock, { operationId: id });
    const current = (await findOperation(db, id)) ?? found;
    if (current.status !== 'InProgress') return current;
    // Waiting first, then reading again: a report landing in between is not missed.
    const wait = operationWaitersOf(db).wait(id, OPERATION_HOLD_MS, request.raw);
    const reread = await findOperation(db, id);
    if (reread?.status !== 'InProgress') wait.cancel();
    if ((await wait.done) === 'closed') return current;
    await expireOverdueOperations(db, clock, { operationId: id });
    return (await findOperation(db, id)) ?? current;
  }

  return [
    {
      ...common,
      method: 'GET',
      url: `${LOCATION_PATH}/operationStatuses/:operationId`,
      access: { kind: 'authenticated' },
      async handler(context) {
        const operation = await operationOf(context);
        if (operation.status === 'InProgress') void context.reply.header('Retry-After', '1');
        return renderOperation(operation, locationOf(context.request));
      },
    },
    {
      ...common,
      method: 'GET',
      url: `${LOCATION_PATH}/operationResults/:operationId`,
      access: { kind: 'authenticated' },
      async handler(context) {
        const operation = await operationOf(context);
        const self = `${services.publicUrl.replace(/\/+$/, '')}${context.request.url}`;
        return answerResult(operation, self, context.reply);
      },
    },
  ];
}

/** 202 while running, 204 once succeeded, the operation's own error once it failed. */
function answerResult(operation: OperationRow, self: string, reply: FastifyReply): unknown {
  switch (operation.status) {
    case 'InProgress':
      void reply.header('Retry-After', '1');
      void reply.header('Location', self);
      void reply.code(202);
      return undefined;
    case 'Succeeded':
      void reply.code(204);
      return undefined;
    case 'Failed':
    case 'Canceled': {
      const error: OperationError =
        operation.error === null
          ? { code: operation.status, message: `The operation ended ${operation.status}.` }
          : (JSON.parse(operation.error) as OperationError);
      void reply.code(409);
      return { error };
    }
  }
}

function locationOf(request: FastifyRequest): string {
  return param(request, 'location').toLowerCase();
}

function notFound(id: string): ArmError {
  return new ArmError(
    'ResourceNotFound',
    `The operation '${id}' was not found in this subscription.`,
  );
}
