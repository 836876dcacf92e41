// The role × action matrix of SPEC §4 and S2–S4: what each built-in role may and may not do
// to machines, extensions, access and the rest of a subscription.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Authorizer } from './authorizer.js';
import {
  BUILT_IN_ROLES,
  TETHER_CONNECTED_MACHINE_ROLE_ID,
  CONNECTED_MACHINE_ONBOARDING_ROLE_ID,
  CONNECTED_MACHINE_RESOURCE_ADMINISTRATOR_ROLE_ID,
  CONTRIBUTOR_ROLE_ID,
  OWNER_ROLE_ID,
  READER_ROLE_ID,
  USER_ACCESS_ADMINISTRATOR_ROLE_ID,
  RESOURCE_POLICY_CONTRIBUTOR_ROLE_ID,
  GUEST_CONFIGURATION_RESOURCE_CONTRIBUTOR_ROLE_ID,
} from './built-in-roles.js';

const SUB = '/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590';
const MACHINE = `${SUB}/resourceGroups/rg1/providers/Microsoft.HybridCompute/machines/web01`;

const ROLES = {
  owner: OWNER_ROLE_ID,
  contributor: CONTRIBUTOR_ROLE_ID,
  reader: READER_ROLE_ID,
  userAccessAdministrator: USER_ACCESS_ADMINISTRATOR_ROLE_ID,
  onboarding: CONNECTED_MACHINE_ONBOARDING_ROLE_ID,
  resourceAdministrator: CONNECTED_MACHINE_RESOURCE_ADMINISTRATOR_ROLE_ID,
  connectedMachine: TETHER_CONNECTED_MACHINE_ROLE_ID,
  policyContributor: RESOURCE_POLICY_CONTRIBUTOR_ROLE_ID,
  guestConfigurationContributor: GUEST_CONFIGURATION_RESOURCE_CONTRIBUTOR_ROLE_ID,
} as const;
type RoleKey = keyof typeof ROLES;

/** Each row: an action and the roles that may perform it; every other role must be refused. */
const MATRIX: [action: string, allowed: RoleKey[]][] = [
  [
    'Microsoft.HybridCompute/machines/read',
    [
      'owner',
      'contributor',
      'reader',
      'userAccessAdministrator',
      'onboarding',
      'resourceAdministrator',
      'connectedMachine',
      'policyContributor',
    ],
  ],
  [
    'Microsoft.HybridCompute/machines/heartbeat/action',
    ['owner', 'contributor', 'resourceAdministrator', 'connectedMachine'],
  ],
  [
    'Microsoft.HybridCompute/machines/rotateCredential/action',
    ['owner', 'contributor', 'resourceAdministrator', 'connectedMachine'],
  ],
  [
    'Microsoft.HybridCompute/machines/extensionGoalState/read',
    [
      'owner',
      'contributor',
      'reader',
      'userAccessAdministrator',
      'resourceAdministrator',
      'connectedMachine',
      'policyContributor',
    ],
  ],
  [
    'Microsoft.HybridCompute/machines/extensionStatus/action',
    ['owner', 'contributor', 'resourceAdministrator', 'connectedMachine'],
  ],
  [
    'Microsoft.HybridCompute/machines/guestConfigurationReports/action',
    ['owner', 'contributor', 'resourceAdministrator', 'connectedMachine'],
  ],
  ['Microsoft.Insights/metrics/write', ['owner', 'contributor', 'connectedMachine']],
  [
    'Microsoft.HybridCompute/machines/write',
    ['owner', 'contributor', 'onboarding', 'resourceAdministrator'],
  ],
  ['Microsoft.HybridCompute/machines/delete', ['owner', 'contributor', 'resourceAdministrator']],
  [
    'Microsoft.HybridCompute/machines/extensions/read',
    [
      'owner',
      'contributor',
      'reader',
      'userAccessAdministrator',
      'resourceAdministrator',
      'policyContributor',
    ],
  ],
  [
    'Microsoft.HybridCompute/machines/extensions/write',
    ['owner', 'contributor', 'resourceAdministrator'],
  ],
  [
    'Microsoft.HybridCompute/machines/extensions/delete',
    ['owner', 'contributor', 'resourceAdministrator'],
  ],
  [
    'Microsoft.HybridCompute/machines/UpgradeExtensions/action',
    ['owner', 'contributor', 'resourceAdministrator'],
  ],
  ['microsoft.hybridcompute/MACHINES/DELETE', ['owner', 'contributor', 'resourceAdministrator']],
  [
    'Microsoft.HybridCompute/privateLinkScopes/read',
    [
      'owner',
      'contributor',
      'reader',
      'userAccessAdministrator',
      'onboarding',
      'resourceAdministrator',
      'policyContributor',
    ],
  ],
  [
    'Microsoft.HybridCompute/privateLinkScopes/write',
    ['owner', 'contributor', 'resourceAdministrator'],
  ],
  [
    'Microsoft.GuestConfiguration/guestConfigurationAssignments/read',
    [
      'owner',
      'contributor',
      'reader',
      'userAccessAdministrator',
      'onboarding',
      'policyContributor',
      'guestConfigurationContributor',
    ],
  ],
  [
    'Microsoft.GuestConfiguration/guestConfigurationAssignments/write',
    ['owner', 'contributor', 'guestConfigurationContributor'],
  ],
  [
    'Microsoft.Authorization/roleAssignments/read',
    [
      'owner',
      'contributor',
      'reader',
      'userAccessAdministrator',
      'policyContributor',
      'guestConfigurationContributor',
    ],
  ],
  ['Microsoft.Authorization/roleAssignments/write', ['owner', 'userAccessAdministrator']],
  ['Microsoft.Authorization/roleAssignments/delete', ['owner', 'userAccessAdministrator']],
  ['Microsoft.Authorization/roleDefinitions/write', ['owner', 'userAccessAdministrator']],
  ['Microsoft.Authorization/elevateAccess/Action', ['owner', 'userAccessAdministrator']],
  [
    'Microsoft.Resources/subscriptions/resourceGroups/read',
    [
      'owner',
      'contributor',
      'reader',
      'userAccessAdministrator',
      'policyContributor',
      'guestConfigurationContributor',
    ],
  ],
  ['Microsoft.Resources/subscriptions/resourceGroups/write', ['owner', 'contributor']],
  ['Microsoft.Resources/subscriptions/resourceGroups/delete', ['owner', 'contributor']],
  [
    'Microsoft.Resources/deployments/write',
    [
      'owner',
      'contributor',
      'resourceAdministrator',
      'policyContributor',
      'guestConfigurationContributor',
    ],
  ],
  ['Microsoft.Compute/virtualMachines/write', ['owner', 'contributor']],
  [
    'Microsoft.Insights/eventtypes/values/read',
    ['owner', 'contributor', 'reader', 'userAccessAdministrator', 'policyContributor'],
  ],
  [
    'Microsoft.Authorization/policyAssignments/write',
    ['owner', 'userAccessAdministrator', 'policyContributor'],
  ],
  [
    'Microsoft.Authorization/policyAssignments/exempt/action',
    ['owner', 'contributor', 'userAccessAdministrator', 'policyContributor'],
  ],
  [
    'Microsoft.Authorization/policyDefinitions/delete',
    ['owner', 'userAccessAdministrator', 'policyContributor'],
  ],
  [
    'Microsoft.Authorization/policyExemptions/write',
    ['owner', 'userAccessAdministrator', 'policyContributor'],
  ],
  [
    'Microsoft.PolicyInsights/policyStates/summarize/action',
    ['owner', 'contributor', 'policyContributor'],
  ],
  [
    'Microsoft.Authorization/policySetDefinitions/read',
    [
      'owner',
      'contributor',
      'reader',
      'userAccessAdministrator',
      'policyContributor',
      'guestConfigurationContributor',
    ],
  ],
];

function engineWith(role: RoleKey): Authorizer {
  const engine = new Authorizer();
  engine.putRoleAssignment({
    name: `assignment-${role}`,
    scope: SUB,
    roleDefinitionName: ROLES[role],
    principalId: `principal-${role}`,
    principalType: 'ServicePrincipal',
  });
  return engine;
}

void describe('built-in roles, assigned at the subscription, acting on a machine in it', () => {
  for (const role of Object.keys(ROLES) as RoleKey[]) {
    const engine = engineWith(role);
    for (const [action, allowed] of MATRIX) {
      const expected = allowed.includes(role);
      void it(`${role} ${expected ? 'may' : 'may not'} ${action}`, () =>
        assert.equal(engine.isAllowed(`principal-${role}`, action, MACHINE), expected));
    }
  }

  void it('Onboarding may read and create machines but not delete them or touch extensions (S3)', () => {
    const engine = engineWith('onboarding');
    const can = (action: string): boolean =>
      engine.isAllowed('principal-onboarding', action, MACHINE);
    assert.deepEqual(
      ['read', 'write', 'delete', 'extensions/read', 'extensions/write', 'extensions/delete'].map(
        (a) => can(`Microsoft.HybridCompute/machines/${a}`),
      ),
      [true, true, false, false, false, false],
    );
  });

  void it('marks exactly the roles that deploy extensions, guest configuration or policy as indirect administrators', () => {
    const engine = new Authorizer();
    for (const [key, id] of Object.entries(ROLES)) {
      engine.putRoleAssignment({
        name: `a-${key}`,
        scope: SUB,
        roleDefinitionName: id,
        principalId: key,
        principalType: 'User',
      });
    }
    const flagged = engine
      .accessAt(MACHINE)
      .filter((e) => e.indirectAdministrator)
      .map((e) => e.principalId)
      .sort();
    assert.deepEqual(flagged, [
      'contributor',
      'guestConfigurationContributor',
      'owner',
      'policyContributor',
      'resourceAdministrator',
      // Microsoft.Authorization/* includes policy assignments.
      'userAccessAdministrator',
    ]);
  });
});

void describe('BUILT_IN_ROLES', () => {
  void it('carries the Azure ids and names, is built in and assignable everywhere', () => {
    const byId = new Map(BUILT_IN_ROLES.map((r) => [r.name, r]));
    assert.equal(byId.get(OWNER_ROLE_ID)?.roleName, 'Owner');
    assert.equal(byId.get(CONTRIBUTOR_ROLE_ID)?.roleName, 'Contributor');
    assert.equal(byId.get(READER_ROLE_ID)?.roleName, 'Reader');
    assert.equal(
      byId.get(USER_ACCESS_ADMINISTRATOR_ROLE_ID)?.roleName,
      'User Access Administrator',
    );
    assert.equal(
      byId.get(CONNECTED_MACHINE_ONBOARDING_ROLE_ID)?.roleName,
      'Azure Connected Machine Onboarding',
    );
    assert.equal(
      byId.get(CONNECTED_MACHINE_RESOURCE_ADMINISTRATOR_ROLE_ID)?.roleName,
      'Azure Connected Machine Resource Administrator',
    );
    assert.equal(byId.get(TETHER_CONNECTED_MACHINE_ROLE_ID)?.roleName, 'Tether Connected Machine');
    assert.equal(
      byId.get(RESOURCE_POLICY_CONTRIBUTOR_ROLE_ID)?.roleName,
      'Resource Policy Contributor',
    );
    assert.equal(
      byId.get(GUEST_CONFIGURATION_RESOURCE_CONTRIBUTOR_ROLE_ID)?.roleName,
      'Guest Configuration Resource Contributor',
    );
    assert.equal(BUILT_IN_ROLES.length, 9);
    for (const role of BUILT_IN_ROLES) {
      assert.equal(role.roleType, 'BuiltInRole');
      assert.deepEqual(role.assignableScopes, ['/']);
    }
  });

  void it('holds the notActions that keep Contributor from changing access', () => {
    const contributor = BUILT_IN_ROLES.find((r) => r.name === CONTRIBUTOR_ROLE_ID);
    assert.deepEqual([...(contributor?.permissions[0]?.notActions ?? [])].sort(), [
      'Microsoft.Authorization/*/Delete',
      'Microsoft.Authorization/*/Write',
      'Microsoft.Authorization/elevateAccess/Action',
    ]);
  });

  void it('cannot be edited in place', () => {
    const owner = BUILT_IN_ROLES[0];
    assert.throws(() => (owner?.permissions[0]?.actions as string[]).push('x'), TypeError);
  });
});
