// The built-in roles Tether ships, with the ids and permissions they have in Azure so that
// scripts and SDK calls naming them by id keep working (SPEC §4, S2–S4).
import { deepFreeze } from './deep-freeze.js';
import type { Permission, RoleDefinition } from './types.js';

function permission(actions: string[], notActions: string[] = []): Permission {
  return { actions, notActions, dataActions: [], notDataActions: [] };
}

function builtIn(
  name: string,
  roleName: string,
  description: string,
  permissions: Permission[],
): RoleDefinition {
  return {
    name,
    roleName,
    description,
    roleType: 'BuiltInRole',
    permissions,
    assignableScopes: ['/'],
  };
}

export const OWNER_ROLE_ID = '8e3af657-a8ff-443c-a75c-2fe8c4bcb635';
export const CONTRIBUTOR_ROLE_ID = 'b24988ac-6180-42a0-ab88-20f7382dd24c';
export const READER_ROLE_ID = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';
export const USER_ACCESS_ADMINISTRATOR_ROLE_ID = '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9';
export const CONNECTED_MACHINE_ONBOARDING_ROLE_ID = 'b64e21ea-ac4e-4cdf-9dc9-5b892992bee7';
export const CONNECTED_MACHINE_RESOURCE_ADMINISTRATOR_ROLE_ID =
  'cd570a14-e51a-42ad-bac8-bafd67325302';
export const RESOURCE_POLICY_CONTRIBUTOR_ROLE_ID = '36243c78-bf99-498c-9df9-86d9f8d28608';
export const GUEST_CONFIGURATION_RESOURCE_CONTRIBUTOR_ROLE_ID =
  '088ab73d-1256-47ae-bea9-9de8e7131f31';
/** Tether's own: what a machine's identity holds at its machine's scope (S15). Not an Azure id. */
export const TETHER_CONNECTED_MACHINE_ROLE_ID = '5c1e0f3a-7d2b-4e8a-9f61-3b0d2a4c8e75';

export const BUILT_IN_ROLES: readonly RoleDefinition[] = deepFreeze([
  builtIn(
    OWNER_ROLE_ID,
    'Owner',
    'Grants full access to manage all resources, including the ability to assign roles.',
    [permission(['*'])],
  ),
  builtIn(
    CONTRIBUTOR_ROLE_ID,
    'Contributor',
    'Grants full access to manage all resources, but does not allow you to assign roles or manage the directory.',
    [
      permission(
        ['*'],
        [
          'Microsoft.Authorization/*/Delete',
          'Microsoft.Authorization/*/Write',
          'Microsoft.Authorization/elevateAccess/Action',
        ],
      ),
    ],
  ),
  builtIn(
    READER_ROLE_ID,
    'Reader',
    'View all resources, but does not allow you to make any changes.',
    [permission(['*/read'])],
  ),
  builtIn(
    USER_ACCESS_ADMINISTRATOR_ROLE_ID,
    'User Access Administrator',
    'Lets you manage user access to Azure resources.',
    [
      // Microsoft.Support/* is in Azure's definition too; Tether has no such provider.
      permission(['*/read', 'Microsoft.Authorization/*', 'Microsoft.Support/*']),
    ],
  ),
  builtIn(
    CONNECTED_MACHINE_ONBOARDING_ROLE_ID,
    'Azure Connected Machine Onboarding',
    'Can onboard Azure Connected Machines: read and create them, not delete them or manage extensions.',
    [
      permission([
        'Microsoft.HybridCompute/machines/read',
        'Microsoft.HybridCompute/machines/write',
        'Microsoft.HybridCompute/privateLinkScopes/read',
        'Microsoft.GuestConfiguration/guestConfigurationAssignments/read',
      ]),
    ],
  ),
  builtIn(
    CONNECTED_MACHINE_RESOURCE_ADMINISTRATOR_ROLE_ID,
    'Azure Connected Machine Resource Administrator',
    'Can read, write, delete and re-onboard Azure Connected Machines and their extensions.',
    [
      permission([
        'Microsoft.HybridCompute/machines/*',
        'Microsoft.HybridCompute/machines/extensions/*',
        'Microsoft.HybridCompute/machines/UpgradeExtensions/action',
        'Microsoft.HybridCompute/privateLinkScopes/*',
        'Microsoft.HybridCompute/locations/*',
        'Microsoft.HybridCompute/*/read',
        'Microsoft.Resources/deployments/*',
      ]),
    ],
  ),
  builtIn(
    RESOURCE_POLICY_CONTRIBUTOR_ROLE_ID,
    'Resource Policy Contributor',
    'Users with rights to create/modify resource policy, create support ticket and read resources/hierarchy.',
    [
      permission([
        '*/read',
        'Microsoft.Authorization/policyassignments/*',
        'Microsoft.Authorization/policydefinitions/*',
        'Microsoft.Authorization/policyexemptions/*',
        'Microsoft.Authorization/policysetdefinitions/*',
        'Microsoft.PolicyInsights/*',
        'Microsoft.Resources/deployments/*',
      ]),
    ],
  ),
  builtIn(
    GUEST_CONFIGURATION_RESOURCE_CONTRIBUTOR_ROLE_ID,
    'Guest Configuration Resource Contributor',
    'Lets you read, write and delete guest configuration assignments. Whoever can assign a configuration that remediates can change the server, like an extension writer.',
    [
      permission([
        'Microsoft.Authorization/*/read',
        'Microsoft.GuestConfiguration/guestConfigurationAssignments/*',
        'Microsoft.Resources/deployments/*',
        'Microsoft.Resources/subscriptions/resourceGroups/read',
      ]),
    ],
  ),
  builtIn(
    TETHER_CONNECTED_MACHINE_ROLE_ID,
    'Tether Connected Machine',
    "Held by a machine's own identity: read its machine, report heartbeats, rotate its key, receive its extension requests, agent upgrades and guest configuration assignments and report their results, its compliance and its metrics.",
    [
      permission([
        'Microsoft.HybridCompute/machines/read',
        'Microsoft.HybridCompute/machines/heartbeat/action',
        'Microsoft.HybridCompute/machines/rotateCredential/action',
        'Microsoft.HybridCompute/machines/extensionGoalState/read',
        'Microsoft.HybridCompute/machines/extensionStatus/action',
        'Microsoft.HybridCompute/machines/agentUpgradeReport/action',
        'Microsoft.HybridCompute/machines/guestConfigurationGoalState/read',
        'Microsoft.HybridCompute/machines/guestConfigurationReports/action',
        'Microsoft.Insights/metrics/write',
      ]),
    ],
  ),
]);
