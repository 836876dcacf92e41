// `POST …/resourceGroups/{rg}/providers/Microsoft.HybridCompute/onboardingTokens`: mints a
// service principal holding only the Onboarding role on the group, with a secret that expires
// with the token and a count of machines it may create (B3). It grants a role, so it needs
// roleAssignments/write at the group.
import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { RouteSpec } from '../api/route-spec.js';
import { newPasswordCredential } from '../directory/credential-factory.js';
import { CONNECTED_MACHINE_ONBOARDING_ROLE_ID } from '../rbac/built-in-roles.js';
import type { RoleAssignment } from '../rbac/types.js';
import { checkResourceGroupName, checkSubscriptionId } from '../resources/arm-names.js';
import {
  bodyObject,
  field,
  invalidContent,
  param,
  rejectUnknownFields,
} from '../resources/arm-request.js';
import type { ArmServices } from '../resources/arm-routes.js';
import { requireResourceGroup, resourceGroupScope } from '../resources/arm-scope.js';
import { encodeOnboardingToken, ONBOARDING_TOKEN_CREDENTIAL } from './onboarding-token.js';

export const ONBOARDING_TOKEN_API_VERSIONS = ['2024-07-10'] as const;
/** A bulk roll-out takes hours, not weeks: the secret it ships must not outlive it by much. */
export const MAX_ONBOARDING_TOKEN_LIFETIME_SECONDS = 30 * 86_400;
export const MAX_ONBOARDING_TOKEN_MACHINES = 100_000;

const URL =
  '/subscriptions/:subscriptionId/resourceGroups/:resourceGroupName/providers/Microsoft.HybridCompute/onboardingTokens';

const groupAt = (request: FastifyRequest): string =>
  resourceGroupScope(
    checkSubscriptionId(param(request, 'subscriptionId')),
    checkResourceGroupName(param(request, 'resourceGroupName')),
  );

export function onboardingTokenRoutes(services: ArmServices & { tenantId: string }): RouteSpec[] {
  const { db, clock, authorizer } = services;
  return [
    {
      method: 'POST',
      url: URL,
      apiVersions: ONBOARDING_TOKEN_API_VERSIONS,
      access: {
        kind: 'action',
        action: 'Microsoft.Authorization/roleAssignments/write',
        scope: groupAt,
      },
      operationName: 'Microsoft.HybridCompute/onboardingTokens/write',
      async handler({ request, caller }) {
        const subscriptionId = checkSubscriptionId(param(request, 'subscriptionId'));
        const body = bodyObject(request);
        rejectUnknownFields(body, ['expiresInSeconds', 'maxMachines'], '');
        const lifetime = integerIn(
          body,
          'expiresInSeconds',
          60,
          MAX_ONBOARDING_TOKEN_LIFETIME_SECONDS,
        );
        const maxMachines = integerIn(body, 'maxMachines', 1, MAX_ONBOARDING_TOKEN_MACHINES);
        const group = await requireResourceGroup(
          db,
          subscriptionId,
          param(request, 'resourceGroupName'),
        );
        const scope = resourceGroupScope(subscriptionId, group.name);
        const now = clock.now();
        const stamp = new Date(now).toISOString();
        const expiresOn = new Date(now + lifetime * 1000).toISOString();
        const principalId = randomUUID();
        const appId = randomUUID();
        const { row, secretText } = await newPasswordCredential(
          principalId,
          ONBOARDING_TOKEN_CREDENTIAL,
          now + lifetime * 1000,
          now,
        );
        const assignment: RoleAssignment = {
          name: randomUUID(),
          scope,
          roleDefinitionName: CONNECTED_MACHINE_ONBOARDING_ROLE_ID,
          principalId,
          principalType: 'ServicePrincipal',
        };
        const creator = caller?.name ?? 'unknown';
        await db.transaction().execute(async (trx) => {
          await trx
            .insertInto('principals')
            .values({
              id: principalId,
              type: 'ServicePrincipal',
              display_name: `onboarding token for ${group.name}`,
              app_id: appId,
              user_principal_name: null,
              machine_id: null,
              reply_urls: null,
              description: `created by ${creator}; at most ${maxMachines} machine(s) until ${expiresOn}`,
              created_at: stamp,
            })
            .execute();
          await trx.insertInto('credentials').values(row).execute();
          await trx
            .insertInto('onboarding_tokens')
            .values({
              principal_id: principalId,
              scope,
              max_machines: maxMachines,
              machines_created: 0,
              expires_at: expiresOn,
              created_at: stamp,
              created_by: creator,
            })
            .execute();
          await trx
            .insertInto('role_assignments')
            .values({
              name: assignment.name,
              scope,
              role_definition_name: assignment.roleDefinitionName,
              principal_id: principalId,
              principal_type: 'ServicePrincipal',
              created_at: stamp,
              created_by: creator,
            })
            .execute();
        });
        authorizer.putPrincipal(principalId, 'ServicePrincipal');
        authorizer.putRoleAssignment(assignment);
        return {
          token: encodeOnboardingToken({
            endpoint: services.publicUrl,
            tenantId: services.tenantId,
            appId,
            secret: secretText,
            subscriptionId,
            resourceGroup: group.name,
          }),
          appId,
          principalId,
          expiresOn,
          maxMachines,
        };
      },
    },
  ];
}

function integerIn(body: Record<string, unknown>, name: string, min: number, max: number): number {
  const value = field(body, name);
  if (value === undefined) throw invalidContent(name, 'is required');
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidContent(name, `must be an integer from ${min} to ${max}`);
  }
  return value;
}
