// An assignment's parameters as a table: its values (or the definition's defaults) decide which
// machines the rule matches and the configuration parameters their guest configuration gets;
// values of the wrong type, unknown names and missing required ones are refused by name.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileAssignment } from './policy-assignment.js';
import { parsePolicyDefinition } from './policy-definition.js';
import { PolicyError } from './policy-error.js';
import { evaluatePolicies } from './policy-evaluation.js';
import { machineView } from './resource-views.js';

const RG = '/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourcegroups/rg1';
const WEB = `${RG}/providers/microsoft.hybridcompute/machines/web01`;
const DEFINITION_ID = `${RG}/providers/microsoft.authorization/policydefinitions/password-age`;

const document = parsePolicyDefinition({
  mode: 'Indexed',
  metadata: {
    category: 'Guest Configuration',
    guestConfiguration: {
      name: 'PasswordPolicy',
      version: '1.*',
      configurationParameter: { maxDays: 'PasswordPolicy;MaxDays' },
    },
  },
  parameters: {
    imageOffer: { type: 'String', defaultValue: 'linux*' },
    maxDays: { type: 'Integer', defaultValue: 365 },
    owner: { type: 'String', allowedValues: ['ops', 'security'] },
  },
  policyRule: {
    if: {
      allOf: [
        { field: 'type', equals: 'Microsoft.HybridCompute/machines' },
        { field: 'Microsoft.HybridCompute/imageOffer', like: "[parameters('imageOffer')]" },
      ],
    },
    then: {
      effect: 'AuditIfNotExists',
      details: {
        type: 'Microsoft.GuestConfiguration/guestConfigurationAssignments',
        name: 'PasswordPolicy',
        existenceCondition: {
          field: 'Microsoft.GuestConfiguration/guestConfigurationAssignments/complianceStatus',
          equals: 'Compliant',
        },
      },
    },
  },
});

const web = machineView({
  id: WEB,
  name: 'web01',
  location: 'westeurope',
  tags: {},
  properties: { osName: 'Ubuntu', osType: 'linux' },
});

function assigned(parameters: Record<string, unknown>) {
  return compileAssignment(
    {
      id: `${RG}/providers/microsoft.authorization/policyassignments/password-age`,
      name: 'password-age',
      displayName: undefined,
      scope: RG,
      notScopes: [],
      enforcementMode: 'Default',
      policyDefinitionId: DEFINITION_ID,
      parameters,
    },
    { kind: 'definition', id: DEFINITION_ID, document },
  );
}

void describe('assignment parameters applied', () => {
  const owner = { owner: { value: 'ops' } };
  // [case, assignment parameters, matches the Linux machine, its configuration parameters]
  const TABLE: [string, Record<string, unknown>, boolean, { name: string; value: string }[]][] = [
    ['defaults', owner, true, [{ name: 'PasswordPolicy;MaxDays', value: '365' }]],
    [
      'a value of its own',
      { ...owner, maxDays: { value: 90 } },
      true,
      [{ name: 'PasswordPolicy;MaxDays', value: '90' }],
    ],
    [
      'a rule value that leaves the machine out',
      { ...owner, imageOffer: { value: 'windows*' } },
      false,
      [],
    ],
    [
      'names case-insensitive',
      { OWNER: { value: 'security' }, MaxDays: { value: 30 } },
      true,
      [{ name: 'PasswordPolicy;MaxDays', value: '30' }],
    ],
  ];
  for (const [name, parameters, matches, configuration] of TABLE) {
    void test(name, () => {
      const { matching } = evaluatePolicies(web, [assigned(parameters)], [], 0);
      assert.equal(matching.length, matches ? 1 : 0);
      if (matches) assert.deepEqual(matching[0]?.guestConfiguration?.parameters, configuration);
    });
  }
});

void describe('assignment parameters refused', () => {
  const TABLE: [string, Record<string, unknown>, string, RegExp][] = [
    [
      'wrong type',
      { owner: { value: 'ops' }, maxDays: { value: '90' } },
      'properties.parameters.maxDays.value',
      /type Integer/,
    ],
    [
      'not allowed',
      { owner: { value: 'finance' } },
      'properties.parameters.owner.value',
      /not an allowed value.*"ops", "security"/,
    ],
    [
      'unknown name',
      { owner: { value: 'ops' }, maxAge: { value: 9 } },
      'properties.parameters.maxAge',
      /not a parameter of the policy; its parameters are: imageOffer, maxDays, owner/,
    ],
    ['required, missing', {}, 'properties.parameters.owner', /is required/],
    ['not wrapped in value', { owner: 'ops' }, 'properties.parameters.owner', /JSON object/],
  ];
  for (const [name, parameters, target, message] of TABLE) {
    void test(name, () => {
      assert.throws(
        () => assigned(parameters),
        (error: unknown) =>
          error instanceof PolicyError && error.target === target && message.test(error.message),
      );
    });
  }
});
