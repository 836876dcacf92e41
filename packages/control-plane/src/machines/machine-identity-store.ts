// A machine's system-assigned identity in the store: the service principal, its public-key
// credential, its agent row and the Tether Connected Machine role at the machine's own scope.
// Every function runs inside the caller's transaction; the engine is told after the commit.
// The machine PUT and the fleet simulator's seeding (packages/bench) both write through here.
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { TETHER_CONNECTED_MACHINE_ROLE_ID } from '../rbac/built-in-roles.js';
import type { AuthorizationEngine, RoleAssignment } from '../rbac/types.js';
import type { Database } from '../store/schema.js';
import type { ClientPublicKey } from './client-public-key.js';
import { forgetLiveness } from './liveness-log.js';
import type { MachineTimings } from './machine-timings.js';

export interface CreatedIdentity {
  principalId: string;
  credentialId: string;
  assignment: RoleAssignment;
}

export interface RemovedIdentity {
  principalIds: string[];
  credentialIds: string[];
}

/** Who the tokens of a removed identity must be forgotten by. */
export interface CredentialForgetter {
  forgetPrincipal(principalId: string): void;
  forgetCredential(credentialId: string): void;
}

/** A machine as its PUT creates it, before its identity. */
export interface NewMachine {
  /** `/subscriptions/…/machines/{name}`. */
  id: string;
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  tags: Record<string, string>;
  properties: Record<string, unknown>;
}

/**
 * Inserts a new machine's row, with a fresh vmId; false when a machine of that id exists
 * already (nothing is written then). What a machine PUT writes first when onboarding, and what
 * the fleet simulator's seeding writes, so that both make the same rows.
 */
export async function insertMachineRow(
  trx: Kysely<Database>,
  machine: NewMachine,
  stamp: string,
): Promise<boolean> {
  const result = await trx
    .insertInto('machines')
    .values({
      id: machine.id,
      subscription_id: machine.subscriptionId,
      resource_group: machine.resourceGroup.toLowerCase(),
      name: machine.name,
      location: machine.location,
      tags: JSON.stringify(machine.tags),
      properties: JSON.stringify({ vmId: randomUUID(), ...machine.properties }),
      created_at: stamp,
      updated_at: stamp,
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .executeTakeFirstOrThrow();
  return result.numInsertedOrUpdatedRows !== 0n;
}

export async function createMachineIdentity(
  trx: Kysely<Database>,
  machine: { id: string; name: string },
  publicKey: ClientPublicKey | undefined,
  now: number,
  timings: Pick<MachineTimings, 'credentialLifetimeMs'>,
): Promise<CreatedIdentity> {
  const principalId = randomUUID();
  const stamp = new Date(now).toISOString();
  const expires = new Date(now + timings.credentialLifetimeMs).toISOString();
  await trx
    .insertInto('principals')
    .values({
      id: principalId,
      type: 'ServicePrincipal',
      display_name: machine.name,
      app_id: principalId,
      user_principal_name: null,
      machine_id: machine.id,
      description: null,
      created_at: stamp,
    })
    .execute();
  const credentialId = publicKey === undefined ? '' : randomUUID();
  if (publicKey !== undefined) {
    await insertPublicKeyCredential(trx, credentialId, principalId, publicKey, now, expires);
  }
  await trx
    .insertInto('machine_agents')
    .values({
      machine_id: machine.id,
      principal_id: principalId,
      // A machine onboarded without a key has nothing to sign in with: its credential is over.
      credential_expires_at: publicKey === undefined ? stamp : expires,
      revoked_at: null,
      rotation_requested: 0,
      last_heartbeat_at: null,
      connected_since: null,
      report: null,
      onboarded_at: stamp,
    })
    .execute();
  const assignment: RoleAssignment = {
    name: randomUUID(),
    scope: machine.id,
    roleDefinitionName: TETHER_CONNECTED_MACHINE_ROLE_ID,
    principalId,
    principalType: 'ServicePrincipal',
  };
  await trx
    .insertInto('role_assignments')
    .values({
      name: assignment.name,
      scope: assignment.scope,
      role_definition_name: assignment.roleDefinitionName,
      principal_id: principalId,
      principal_type: 'ServicePrincipal',
      created_at: stamp,
      created_by: principalId,
    })
    .execute();
  return { principalId, credentialId, assignment };
}

export async function insertPublicKeyCredential(
  trx: Kysely<Database>,
  id: string,
  principalId: string,
  publicKey: ClientPublicKey,
  now: number,
  expiresAt: string,
): Promise<void> {
  const stamp = new Date(now).toISOString();
  await trx
    .insertInto('credentials')
    .values({
      id,
      principal_id: principalId,
      kind: 'publicKey',
      display_name: 'machine key',
      secret_hash: null,
      secret_hint: null,
      thumbprint_s256: null,
      thumbprint_sha1: null,
      certificate_pem: null,
      key_id: publicKey.keyId,
      public_key: publicKey.base64,
      starts_at: stamp,
      expires_at: expiresAt,
      created_at: stamp,
    })
    .execute();
}

/** Deletes the machine's identity, its credentials, agent row and every assignment it holds. */
export async function deleteMachineIdentity(
  trx: Kysely<Database>,
  machineId: string,
): Promise<RemovedIdentity & { assignmentNames: string[] }> {
  const principals = await trx
    .deleteFrom('principals')
    .where('machine_id', '=', machineId)
    .returning('id')
    .execute();
  const principalIds = principals.map((p) => p.id);
  await trx.deleteFrom('machine_agents').where('machine_id', '=', machineId).execute();
  await forgetLiveness(trx, machineId);
  await trx.deleteFrom('machine_local_changes').where('machine_id', '=', machineId).execute();
  if (principalIds.length === 0) return { principalIds, credentialIds: [], assignmentNames: [] };
  const credentials = await trx
    .deleteFrom('credentials')
    .where('principal_id', 'in', principalIds)
    .returning('id')
    .execute();
  const assignments = await trx
    .deleteFrom('role_assignments')
    .where('principal_id', 'in', principalIds)
    .returning('name')
    .execute();
  return {
    principalIds,
    credentialIds: credentials.map((c) => c.id),
    assignmentNames: assignments.map((a) => a.name),
  };
}

/** After the commit: the engine and the token cache stop honouring the removed identity. */
export function forgetMachineIdentity(
  removed: RemovedIdentity,
  authorizer: AuthorizationEngine,
  tokens: CredentialForgetter | undefined,
): void {
  for (const id of removed.principalIds) {
    authorizer.removePrincipal(id);
    tokens?.forgetPrincipal(id);
  }
  for (const id of removed.credentialIds) tokens?.forgetCredential(id);
}

/** After the commit: the engine grants the new identity its own machine's role. */
export function learnMachineIdentity(
  created: CreatedIdentity,
  authorizer: AuthorizationEngine,
): void {
  authorizer.putPrincipal(created.principalId, 'ServicePrincipal');
  authorizer.putRoleAssignment(created.assignment);
}
