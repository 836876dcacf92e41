// Definitions and their parameters: what is accepted, and the error (with its JSON path)
// for each kind of bad input; built-ins parse with their guest configuration metadata.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BUILT_IN_POLICY_DEFINITIONS, LINUX_SSH_KEYS_POLICY } from './built-in-policies.js';
import { parsePolicyDefinition } from './policy-definition.js';
import { PolicyError } from './policy-error.js';
import { ParameterDefinitions } from './policy-parameters.js';
import { effectWith } from './policy-rule.js';

const rule = (then: unknown, extra: Record<string, unknown> = {}): unknown => ({
  ...extra,
  policyRule: { if: { field: 'type', equals: 'Microsoft.HybridCompute/machines' }, then },
});
const gcDetails = {
  type: 'Microsoft.GuestConfiguration/guestConfigurationAssignments',
  name: 'AzureLinuxBaseline',
  existenceCondition: {
    field: 'Microsoft.GuestConfiguration/guestConfigurationAssignments/complianceStatus',
    equals: 'Compliant',
  },
};

/** Bad definition properties → the path the error names and a phrase of its reason. */
const BAD: [string, unknown, string, RegExp][] = [
  ['no rule', { mode: 'All' }, 'properties.policyRule', /is required/],
  [
    'unknown effect',
    rule({ effect: 'Quarantine' }),
    'properties.policyRule.then.effect',
    /not a known effect; accepted: Disabled, Audit, Deny/,
  ],
  [
    'AINE without details',
    rule({ effect: 'AuditIfNotExists' }),
    'properties.policyRule.then.details',
    /is required/,
  ],
  [
    'AINE details without type',
    rule({ effect: 'AuditIfNotExists', details: { name: 'x' } }),
    'properties.policyRule.then.details.type',
    /related resource type/,
  ],
  [
    'DINE without deployment',
    rule({ effect: 'DeployIfNotExists', details: { ...gcDetails, roleDefinitionIds: ['/x'] } }),
    'properties.policyRule.then.details.deployment',
    /is required/,
  ],
  [
    'DINE without roles',
    rule({
      effect: 'DeployIfNotExists',
      details: { ...gcDetails, deployment: { properties: {} } },
    }),
    'properties.policyRule.then.details.roleDefinitionIds',
    /role definition ids/,
  ],
  [
    'unknown alias in existenceCondition',
    rule({
      effect: 'AuditIfNotExists',
      details: {
        ...gcDetails,
        existenceCondition: { field: 'Microsoft.GuestConfiguration/x', equals: 'y' },
      },
    }),
    'properties.policyRule.then.details.existenceCondition.field',
    /not a known field or alias/,
  ],
  [
    'effect names an undeclared parameter',
    rule({ effect: "[parameters('effect')]" }),
    'properties.policyRule.then.effect',
    /not declared/,
  ],
  [
    'effect parameter allows a non-effect',
    rule(
      { effect: "[parameters('effect')]" },
      { parameters: { effect: { type: 'String', allowedValues: ['Audit', 'Explode'] } } },
    ),
    "properties.policyRule.then.effect (parameter 'effect' value 1)",
    /"Explode"/,
  ],
  [
    'effect parameter without values',
    rule({ effect: "[parameters('effect')]" }, { parameters: { effect: { type: 'String' } } }),
    'properties.policyRule.then.effect',
    /needs allowedValues or a defaultValue/,
  ],
  [
    'unknown parameter type',
    rule({ effect: 'Audit' }, { parameters: { p: { type: 'Number' } } }),
    'properties.parameters.p.type',
    /must be one of String, Array/,
  ],
  [
    'default not allowed',
    rule(
      { effect: 'Audit' },
      { parameters: { p: { type: 'String', allowedValues: ['a'], defaultValue: 'b' } } },
    ),
    'properties.parameters.p.defaultValue',
    /not an allowed value/,
  ],
  [
    'default of wrong type',
    rule({ effect: 'Audit' }, { parameters: { p: { type: 'Integer', defaultValue: '3' } } }),
    'properties.parameters.p.defaultValue',
    /type Integer/,
  ],
  [
    'unknown mode',
    { ...(rule({ effect: 'Audit' }) as object), mode: 'Some' },
    'properties.mode',
    /All, Indexed/,
  ],
  [
    'unknown field',
    { ...(rule({ effect: 'Audit' }) as object), rules: [] },
    'properties.rules',
    /not a known field/,
  ],
  [
    'then with extra field',
    rule({ effect: 'Audit', when: 'now' }),
    'properties.policyRule.then.when',
    /not a known field/,
  ],
  [
    'gc metadata without name',
    {
      ...(rule({ effect: 'Audit' }) as object),
      metadata: { guestConfiguration: { version: '1.*' } },
    },
    'properties.metadata.guestConfiguration.name',
    /configuration's name/,
  ],
];

void describe('policy definition errors', () => {
  for (const [label, raw, path, reason] of BAD) {
    void test(label, () => {
      assert.throws(
        () => parsePolicyDefinition(raw),
        (e: unknown) => e instanceof PolicyError && e.target === path && reason.test(e.message),
      );
    });
  }
});

void describe('policy definitions', () => {
  void test('a guest configuration audit with an effect parameter', () => {
    const doc = parsePolicyDefinition({
      parameters: {
        effect: {
          type: 'string',
          allowedValues: ['AuditIfNotExists', 'Disabled'],
          defaultValue: 'AuditIfNotExists',
        },
      },
      metadata: { guestConfiguration: { name: 'AzureLinuxBaseline', version: '1.*' } },
      policyRule: {
        if: { field: 'type', equals: 'Microsoft.HybridCompute/machines' },
        then: { effect: "[parameters('effect')]", details: gcDetails },
      },
    });
    assert.deepEqual(doc.policyRule.possibleEffects, ['AuditIfNotExists', 'Disabled']);
    assert.equal(doc.policyRule.details?.name, 'AzureLinuxBaseline');
    assert.equal(doc.guestConfiguration?.name, 'AzureLinuxBaseline');
    assert.equal(doc.mode, 'Indexed');
    assert.equal(
      effectWith(doc.policyRule, doc.parameters.resolve({ effect: { value: 'disabled' } }, 'p')),
      'Disabled',
    );
  });

  void test('every built-in parses, as a BuiltIn with a GUID name', () => {
    for (const builtIn of BUILT_IN_POLICY_DEFINITIONS) {
      const doc = parsePolicyDefinition(builtIn.properties);
      assert.equal(doc.policyType, 'BuiltIn');
      assert.match(builtIn.name, /^[0-9a-f-]{36}$/);
    }
    const ssh = BUILT_IN_POLICY_DEFINITIONS.find((b) => b.name === LINUX_SSH_KEYS_POLICY);
    assert.equal(
      parsePolicyDefinition(ssh?.properties).guestConfiguration?.name,
      'LinuxNoPasswordForSSH',
    );
  });
});

void describe('assignment parameter values', () => {
  const defs = ParameterDefinitions.parse(
    {
      list: { type: 'Array', allowedValues: ['a', 'b'] },
      count: { type: 'Integer', defaultValue: 3 },
      Flag: { type: 'Boolean', defaultValue: false },
    },
    'properties.parameters',
  );
  const BAD_VALUES: [unknown, string, RegExp][] = [
    [{}, 'properties.parameters.list', /is required/],
    [
      { list: { value: ['a', 'c'] } },
      'properties.parameters.list.value[1]',
      /"c"\) is not an allowed value/,
    ],
    [{ list: { value: 'a' } }, 'properties.parameters.list.value', /type Array/],
    [
      { list: { value: ['a'] }, count: { value: 2.5 } },
      'properties.parameters.count.value',
      /type Integer/,
    ],
    [
      { list: { value: ['a'] }, other: { value: 1 } },
      'properties.parameters.other',
      /not a parameter of the policy; its parameters are: list, count, Flag/,
    ],
    [{ list: ['a'] }, 'properties.parameters.list', /must be a JSON object/],
  ];
  for (const [raw, path, reason] of BAD_VALUES) {
    void test(`${JSON.stringify(raw)} → ${path}`, () => {
      assert.throws(
        () => defs.resolve(raw, 'properties.parameters'),
        (e: unknown) => e instanceof PolicyError && e.target === path && reason.test(e.message),
      );
    });
  }
  void test('defaults fill in; names are case-insensitive', () => {
    assert.deepEqual(defs.resolve({ LIST: { value: ['b'] }, flag: { value: true } }, 'p'), {
      list: ['b'],
      count: 3,
      flag: true,
    });
  });
});
