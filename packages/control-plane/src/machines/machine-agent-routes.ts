// What a machine's agent and its operators call besides the resource itself: heartbeat,
// rotateCredential (the machine), requestCredentialRotation and revokeCredential (operators).
import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ArmError } from '../api/arm-error.js';
import type { RouteSpec } from '../api/route-spec.js';
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
import { HeartbeatService, noIdentity } from './heartbeat-service.js';
import { insertPublicKeyCredential } from './machine-identity-store.js';
import { DEFAULT_MACHINE_TIMINGS } from './machine-timings.js';

export const MACHINE_AGENT_ACTIONS = {
  heartbeat: 'Microsoft.HybridCompute/machines/heartbeat/action',
  rotateCredential: 'Microsoft.HybridCompute/machines/rotateCredential/action',
  write: 'Microsoft.HybridCompute/machines/write',
} as const;

const ONE =
  '/subscriptions/:subscriptionId/resourceGroups/:resourceGroupName/providers/Microsoft.HybridCompute/machines/:machineName';

export const HEARTBEAT_URL = `${ONE}/heartbeat`;

const machineAt = (request: FastifyRequest): string =>
  machineScope(
    checkSubscriptionId(param(request, 'subscriptionId')),
    checkResourceGroupName(param(request, 'resourceGroupName')),
    checkMachineName(param(request, 'machineName')),
  );

/**
 * The heartbeat route. The lean path in front of the router (lean-heartbeats.ts) answers most
 * heartbeats with the same service, admission and errors; this one answers the rest.
 */
export function heartbeatRoute(heartbeats: HeartbeatService): RouteSpec {
  return {
    apiVersions: MACHINE_API_VERSIONS,
    method: 'POST',
    url: HEARTBEAT_URL,
    access: { kind: 'action', action: MACHINE_AGENT_ACTIONS.heartbeat, scope: machineAt },
    activityLog: false,
    // The access check has parsed and checked the machine's id already: it is the scope.
    handler: ({ request, scope: machineId, caller, correlationId }) =>
      heartbeats.answer({
        machineId,
        body: request.body,
        caller,
        correlationId: () => correlationId,
        clientIp: () => request.ip,
      }),
  };
}

/** The machine agent's routes; `heartbeat` is the one the server's lean path shares. */
export function machineAgentRoutes(
  services: ArmServices,
  heartbeat: RouteSpec = heartbeatRoute(
    new HeartbeatService(services.db, services.clock, services.machineTimings),
  ),
): RouteSpec[] {
  const { db, clock } = services;
  const timings = services.machineTimings ?? DEFAULT_MACHINE_TIMINGS;
  const common = { apiVersions: MACHINE_API_VERSIONS };

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
    heartbeat,
    {
      // The agent channel is a WebSocket taken before the router (agent-channels.ts); what
      // reaches the router here is a refused upgrade, answered like any request, or a plain GET.
      ...common,
      method: 'GET',
      url: `${ONE}/agentChannel`,
      access: { kind: 'action', action: MACHINE_AGENT_ACTIONS.heartbeat, scope: machineAt },
      activityLog: false,
      handler() {
        throw new ArmError(
          'UpgradeRequired',
          "This is the machine's agent channel: open it as a WebSocket (GET with 'Upgrade: websocket'), or send heartbeats with POST …/heartbeat.",
        );
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
