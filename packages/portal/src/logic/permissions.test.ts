import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ACTIONS, allows, type Permission } from './permissions.js';

const OWNER: Permission[] = [{ actions: ['*'], notActions: [] }];
const CONTRIBUTOR: Permission[] = [
  {
    actions: ['*'],
    notActions: [
      'Microsoft.Authorization/*/Write',
      'Microsoft.Authorization/*/Delete',
      'Microsoft.Authorization/elevateAccess/Action',
    ],
  },
];
const READER: Permission[] = [{ actions: ['*/read'], notActions: [] }];

void describe('which buttons a person sees', () => {
  const table: [string, Permission[], string, boolean][] = [
    ['Owner', OWNER, ACTIONS.extensionWrite, true],
    ['Owner', OWNER, ACTIONS.roleAssignmentWrite, true],
    ['Contributor', CONTRIBUTOR, ACTIONS.extensionWrite, true],
    ['Contributor', CONTRIBUTOR, ACTIONS.extensionDelete, true],
    ['Contributor', CONTRIBUTOR, ACTIONS.roleAssignmentWrite, false],
    ['Reader', READER, ACTIONS.extensionWrite, false],
    ['Reader', READER, ACTIONS.roleAssignmentWrite, false],
    ['Reader', READER, 'Microsoft.HybridCompute/machines/read', true],
    ['nobody', [], 'Microsoft.HybridCompute/machines/read', false],
  ];
  for (const [role, permissions, action, expected] of table) {
    void it(`${role} ${expected ? 'may' : 'may not'} ${action}`, () => {
      assert.equal(allows(permissions, action), expected);
    });
  }

  void it('matches action names case-insensitively and treats dots literally', () => {
    assert.equal(
      allows([{ actions: ['microsoft.hybridcompute/machines/*'] }], ACTIONS.extensionWrite),
      true,
    );
    assert.equal(
      allows(
        [{ actions: ['Microsoft.HybridCompute/machines.read'] }],
        'Microsoft.HybridCompute/machinesXread',
      ),
      false,
    );
  });
});
