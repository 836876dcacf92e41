// What a machine's agent and its operators call besides the resource itself: heartbeat,
// rotateCredential (the machine), requestCredentialRotation and revokeCredential (operators).
import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ArmError } from '../api/arm-error.js';
import type { RouteSpec } from '../api/route-spec.js';
import { GcSwitchWatch, gcSwitchedOff } from '../guest-configuration/gc-switch-watch.js';
import {
  checkMachineName,
  checkResourceGroupName,
  checkSubscriptionId,
} from '../resources/arm-names.js';
import { bodyObject, param, requiredString } from '../resources/arm-request.js';
import type { ArmServices } from '../resources/arm-routes.js';
import { machineScope } from '../resources/arm-scope.js';
import { MACHINE_API_VERSIONS } from '../resources/machine-routes.js';
import { parseClientPublicKey } from './client-public-key.js';
import { HeartbeatBatcher } from './heartbeat-batcher.js';
import { parseHeartbeat, parseHeartbeatLocalChanges } from './heartbeat-body.js';
import { insertPublicKeyCredential } from './machine-identity-store.js';
import { DEFAULT_MACHINE_TIMINGS } from './machine-timings.js';
import { recordLocalChanges } from './record-local-changes.js';

export const MACHINE_AGENT_ACTIONS = {
  heartbeat: 'Microsoft.HybridCompute/machines/heartbeat/action',
  rotateCredential: 'Microsoft.HybridCompute/machines/rotateCredential/action',
  write: 'Microsoft.HybridCompute/machines/write',
} as const;

const ONE =
  '/subscriptions/:subscriptionId/resourceGroups/:resourceGroupName/providers/Microsoft.HybridCompute/machines/:machineName';

const machineAt = (request: FastifyRequest): string =>
  machineScope(
    checkSubscriptionId(param(request, 'subscriptionId')),
    checkResourceGroupName(param(request, 'resourceGroupName')),
    checkMachineName(param(request, 'machineName')),
  );

export function machineAgentRoutes(services: ArmServices): RouteSpec[] {
  const { db, clock } = services;
  const timings = services.machineTimings ?? DEFAULT_MACHINE_TIMINGS;
  const batcher = new HeartbeatBatcher(db, clock, timings);
  const common = { apiVersions: MACHINE_API_VERSIONS };
  const intervalSeconds = Math.round(timings.heartbeatIntervalMs / 1000);

  async function agentOf(machineId: string) {
    const agent = await db
      .selectFrom('machine_agents')
      .selectAll()
      .where('machine_id', '=', machineId)
      .executeTakeFirst();
    if (agent === undefined) throw noIdentity(machineId);
    return agent;
  }

  return [
    {
      ...common,
      method: 'POST',
      url: `${ONE}/heartbeat`,
      access: { kind: 'action', action: MACHINE_AGENT_ACTIONS.heartbeat, scope: machineAt },
      activityLog: false,
      // The access check has parsed and checked the machine's id already: it is the scope.
      async handler({ request, scope: machineId, caller, correlationId }) {
        const body = bodyObject(request);
        // Both parts are validated before either is stored: a bad entry stores nothing.
        const report = parseHeartbeat(body);
        const localChanges = parseHeartbeatLocalChanges(body);
        const acknowledged =
          localChanges.changes.length === 0 || caller === undefined
            ? undefined
            : await recordLocalChanges(
                db,
                {
                  machineId,
                  caller,
                  correlationId,
                  clientIp: request.ip,
                  receivedAt: new Date(clock.now()).toISOString(),
                },
                localChanges,
              );
        const record = await batcher.submit({ machineId, report: JSON.stringify(report) });
        if (record === undefined) throw noIdentity(machineId);
        await GcSwitchWatch.of(db).observe(
          machineId,
          gcSwitchedOff(report),
          new Date(clock.now()).toISOString(),
        );
        // The interval in every answer lets a restarted control plane spread its agents out.
        return {
          heartbeatIntervalSeconds: intervalSeconds,
          credential: {
            expiresOn: record.credentialExpiresAt,
            rotationRequested: record.rotationRequested,
          },
          // The agent stops resending changes up to here.
          ...(acknowledged === undefined ? {} : { localChangesAcknowledged: acknowledged }),
        };
      },
    },
    {
      ...common,
      method: 'POST',
      url: `${ONE}/rotateCredential`,
      access: { kind: 'action', action: MACHINE_AGENT_ACTIONS.rotateCredential, scope: machineAt },
      async handler({ request }) {
        const machineId = machineAt(request);
        const body = bodyObject(request);
        const key = parseClientPublicKey(
          requiredString(body, 'clientPublicKey', 'clientPublicKey', 8192),
        );
        const agent = await agentOf(machineId);
        const now = clock.now();
        const expiresOn = new Date(now + timings.credentialLifetimeMs).toISOString();
        const graceEnd = new Date(now + timings.rotationGraceMs).toISOString();
        await db.transaction().execute(async (trx) => {
          const same = await trx
            .selectFrom('credentials')
            .select('id')
            .where('principal_id', '=', agent.principal_id)
            .where('key_id', '=', key.keyId)
            .executeTakeFirst();
          if (same !== undefined) {
            throw new ArmError(
              'Conflict',
              'The clientPublicKey is already registered for this machine; generate a new key to rotate.',
              { target: 'clientPublicKey' },
            );
          }
          // The replaced key keeps working briefly for calls already in flight.
          await trx
            .updateTable('credentials')
            .set({ expires_at: graceEnd })
            .where('principal_id', '=', agent.principal_id)
            .where('kind', '=', 'publicKey')
            .where('expires_at', '>', graceEnd)
            .execute();
          await insertPublicKeyCredential(
            trx,
            randomUUID(),
            agent.principal_id,
            key,
            now,
            expiresOn,
          );
          await trx
            .updateTable('machine_agents')
            .set({ credential_expires_at: expiresOn, rotation_requested: 0 })
            .where('machine_id', '=', machineId)
            .execute();
          const machine = await trx
            .selectFrom('machines')
            .select('properties')
            .where('id', '=', machineId)
            .executeTakeFirstOrThrow();
          const properties = {
            ...(JSON.parse(machine.properties) as object),
            clientPublicKey: key.base64,
          };
          await trx
            .updateTable('machines')
            .set({
              properties: JSON.stringify(properties),
              updated_at: new Date(now).toISOString(),
            })
            .where('id', '=', machineId)
            .execute();
        });
        return { expiresOn };
      },
    },
    {
      ...common,
      method: 'POST',
      url: `${ONE}/requestCredentialRotation`,
      access: { kind: 'action', action: MACHINE_AGENT_ACTIONS.write, scope: machineAt },
      operationName: 'Microsoft.HybridCompute/machines/requestCredentialRotation/action',
      async handler({ request, reply }) {
        const machineId = machineAt(request);
        await agentOf(machineId);
        await db
          .updateTable('machine_agents')
          .set({ rotation_requested: 1 })
          .where('machine_id', '=', machineId)
          .execute();
        void reply.code(202);
        return undefined;
      },
    },
    {
      ...common,
      method: 'POST',
      url: `${ONE}/revokeCredential`,
      access: { kind: 'action', action: MACHINE_AGENT_ACTIONS.write, scope: machineAt },
      operationName: 'Microsoft.HybridCompute/machines/revokeCredential/action',
      async handler({ request }) {
        const machineId = machineAt(request);
        const agent = await agentOf(machineId);
        const stamp = new Date(clock.now()).toISOString();
        // Ending every key now refuses new tokens and, through the credential check, live ones.
        const ended = await db.transaction().execute(async (trx) => {
          await trx
            .updateTable('machine_agents')
            .set({ revoked_at: agent.revoked_at ?? stamp, rotation_requested: 0 })
            .where('machine_id', '=', machineId)
            .execute();
          return trx
            .updateTable('credentials')
            .set({ expires_at: stamp })
            .where('principal_id', '=', agent.principal_id)
            .where('expires_at', '>', stamp)
            .returning('id')
            .execute();
        });
        services.tokens?.forgetPrincipal(agent.principal_id);
        for (const { id } of ended) services.tokens?.forgetCredential(id);
        return { revokedAt: agent.revoked_at ?? stamp };
      },
    },
  ];
}

function noIdentity(machineId: string): ArmError {
  return new ArmError(
    'ResourceNotFound',
    `The machine '${machineId.split('/').pop() ?? machineId}' has no system-assigned identity; onboard it with azcmagent connect.`,
  );
}
