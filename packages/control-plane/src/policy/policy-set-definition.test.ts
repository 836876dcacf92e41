// Initiatives: members, reference ids, member parameters bound to the set's parameters, and
// what an assignment of the set resolves to; each bad input's error names its path.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  BUILT_IN_POLICY_DEFINITIONS,
  BUILT_IN_POLICY_SETS,
  LINUX_SECURITY_INITIATIVE,
} from './built-in-policies.js';
import { compileAssignment, type AssignmentRecord } from './policy-assignment.js';
import { parsePolicyDefinition, type PolicyDefinitionDocument } from './policy-definition.js';
import { PolicyError } from './policy-error.js';
import { parsePolicySet } from './policy-set-definition.js';

const definitions = new Map<string, PolicyDefinitionDocument>(
  BUILT_IN_POLICY_DEFINITIONS.map((b) => [
    `/providers/microsoft.authorization/policydefinitions/${b.name}`,
    parsePolicyDefinition(b.properties),
  ]),
);
const lookup = (id: string): PolicyDefinitionDocument | undefined => definitions.get(id);
const ssh =
  '/providers/Microsoft.Authorization/policyDefinitions/630c64f9-8b6b-4c64-b511-6544ceff6fd6';
const allowed =
  '/providers/Microsoft.Authorization/policyDefinitions/7b8f4a2e-3c91-4d6b-a0f5-2e9d81c6b437';

function record(parameters: Record<string, unknown>): AssignmentRecord {
  return {
    id: '/subscriptions/s/providers/Microsoft.Authorization/policyAssignments/a',
    name: 'a',
    displayName: undefined,
    scope: '/subscriptions/s',
    notScopes: [],
    enforcementMode: 'Default',
    policyDefinitionId: 'set',
    parameters,
  };
}

void describe('policy sets', () => {
  void test('the built-in initiative binds every member effect to its own parameter', () => {
    const builtIn = BUILT_IN_POLICY_SETS.find((s) => s.name === LINUX_SECURITY_INITIATIVE);
    const { document } = parsePolicySet(builtIn?.properties, lookup);
    assert.equal(document.members.length, 3);
    const assigned = { kind: 'set' as const, id: 'set', document, definitions };
    const audit = compileAssignment(record({}), assigned);
    assert.deepEqual(
      audit.members.map((m) => m.effect),
      ['AuditIfNotExists', 'AuditIfNotExists', 'AuditIfNotExists'],
    );
    const disabled = compileAssignment(record({ effect: { value: 'Disabled' } }), assigned);
    assert.deepEqual(
      disabled.members.map((m) => m.effect),
      ['Disabled', 'Disabled', 'Disabled'],
    );
    assert.throws(
      () => compileAssignment(record({ effect: { value: 'Deny' } }), assigned),
      (e: unknown) => e instanceof PolicyError && e.target === 'properties.parameters.effect.value',
    );
  });

  void test('members without a reference id get a unique one', () => {
    const { document, filled } = parsePolicySet(
      { policyDefinitions: [{ policyDefinitionId: ssh }, { policyDefinitionId: ssh }] },
      lookup,
    );
    assert.deepEqual(
      document.members.map((m) => m.policyDefinitionReferenceId),
      ['630c64f9-8b6b-4c64-b511-6544ceff6fd6', '630c64f9-8b6b-4c64-b511-6544ceff6fd6_2'],
    );
    assert.equal(
      (filled['policyDefinitions'] as { policyDefinitionReferenceId: string }[])[1]
        ?.policyDefinitionReferenceId,
      document.members[1]?.policyDefinitionReferenceId,
    );
  });

  const BAD: [string, unknown, string, RegExp][] = [
    ['no members', { policyDefinitions: [] }, 'properties.policyDefinitions', /at least one/],
    [
      'unknown definition',
      {
        policyDefinitions: [
          { policyDefinitionId: '/providers/Microsoft.Authorization/policyDefinitions/nope' },
        ],
      },
      'properties.policyDefinitions[0].policyDefinitionId',
      /names no policy definition/,
    ],
    [
      'duplicate reference id',
      {
        policyDefinitions: [
          { policyDefinitionId: ssh, policyDefinitionReferenceId: 'x' },
          { policyDefinitionId: ssh, policyDefinitionReferenceId: 'X' },
        ],
      },
      'properties.policyDefinitions[1].policyDefinitionReferenceId',
      /must be unique/,
    ],
    [
      'unknown member parameter',
      { policyDefinitions: [{ policyDefinitionId: ssh, parameters: { mode: { value: 'x' } } }] },
      'properties.policyDefinitions[0].parameters.mode',
      /not a parameter of the member definition/,
    ],
    [
      'member value not allowed',
      {
        policyDefinitions: [{ policyDefinitionId: ssh, parameters: { effect: { value: 'Deny' } } }],
      },
      'properties.policyDefinitions[0].parameters.effect.value',
      /not an allowed value/,
    ],
    [
      'undeclared set parameter',
      {
        policyDefinitions: [
          { policyDefinitionId: ssh, parameters: { effect: { value: "[parameters('effect')]" } } },
        ],
      },
      'properties.policyDefinitions[0].parameters.effect.value',
      /not declared/,
    ],
    [
      'required member parameter missing',
      { policyDefinitions: [{ policyDefinitionId: allowed }] },
      'properties.policyDefinitions[0].parameters.allowedExtensions',
      /is required/,
    ],
    [
      'set parameter of another type',
      {
        parameters: { list: { type: 'String', defaultValue: 'x' } },
        policyDefinitions: [
          {
            policyDefinitionId: allowed,
            parameters: { allowedExtensions: { value: "[parameters('list')]" } },
          },
        ],
      },
      'properties.policyDefinitions[0].parameters.allowedExtensions.value',
      /type String, but the member parameter is Array/,
    ],
    [
      'undeclared group',
      { policyDefinitions: [{ policyDefinitionId: ssh, groupNames: ['g'] }] },
      'properties.policyDefinitions[0].groupNames',
      /policyDefinitionGroups/,
    ],
  ];
  for (const [label, raw, path, reason] of BAD) {
    void test(label, () => {
      assert.throws(
        () => parsePolicySet(raw, lookup),
        (e: unknown) => e instanceof PolicyError && e.target === path && reason.test(e.message),
      );
    });
  }
});
