// Applicability as tables: which assignments cover which resources (scope, notScopes),
// which exemptions count (assignment, reference ids, expiry to the millisecond), and the
// Deny decision for an allowed-extensions assignment.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ALLOWED_EXTENSIONS_POLICY,
  BUILT_IN_POLICY_DEFINITIONS,
  BUILT_IN_POLICY_SETS,
} from './built-in-policies.js';
import { assignmentCovers, compileAssignment, type AssignmentRecord } from './policy-assignment.js';
import { parsePolicyDefinition, type PolicyDefinitionDocument } from './policy-definition.js';
import { applicablePolicies, denyingEntry, evaluatePolicies } from './policy-evaluation.js';
import type { PolicyResourceView } from './policy-aliases.js';
import type { ExemptionRecord } from './policy-exemption.js';
import { parsePolicySet } from './policy-set-definition.js';
import { extensionView, machineView } from './resource-views.js';

const SUB = '/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590';
const RG = `${SUB}/resourcegroups/rg1`;
const WEB = `${RG}/providers/microsoft.hybridcompute/machines/web01`;
const DB = `${RG}/providers/microsoft.hybridcompute/machines/db01`;
const OTHER = `${SUB}/resourcegroups/rg2/providers/microsoft.hybridcompute/machines/app01`;

void describe('assignment coverage', () => {
  const TABLE: [scope: string, notScopes: string[], resource: string, covers: boolean][] = [
    [SUB, [], WEB, true],
    [RG, [], WEB, true],
    [RG, [], OTHER, false],
    [WEB, [], WEB, true],
    [WEB, [], `${WEB}/extensions/ama`, true],
    [DB, [], WEB, false],
    [RG, [DB], WEB, true],
    [RG, [DB], DB, false],
    [RG, [DB], `${DB}/extensions/ama`, false],
    [SUB, [RG], WEB, false],
    [SUB, [RG], OTHER, true],
    ['/', [], WEB, true],
    [`${RG}1`, [], WEB, false],
  ];
  for (const [scope, notScopes, resource, covers] of TABLE) {
    void test(`${scope} minus [${notScopes.join(',')}] covers ${resource.split('/').slice(-2).join('/')}: ${covers}`, () => {
      assert.equal(assignmentCovers({ scope, notScopes }, resource.toUpperCase()), covers);
    });
  }
});

const definitions = new Map<string, PolicyDefinitionDocument>(
  BUILT_IN_POLICY_DEFINITIONS.map((b) => [
    `/providers/microsoft.authorization/policydefinitions/${b.name}`,
    parsePolicyDefinition(b.properties),
  ]),
);
const setBuiltIn = BUILT_IN_POLICY_SETS[0];
const setId = `/providers/microsoft.authorization/policysetdefinitions/${setBuiltIn?.name ?? ''}`;
const initiative = compileAssignment(
  {
    id: `${RG}/providers/microsoft.authorization/policyassignments/linux`,
    name: 'linux',
    displayName: 'Linux baseline',
    scope: RG,
    notScopes: [DB],
    enforcementMode: 'Default',
    policyDefinitionId: setId,
    parameters: {},
  },
  {
    kind: 'set',
    id: setId,
    document: parsePolicySet(setBuiltIn?.properties, (id) => definitions.get(id)).document,
    definitions,
  },
);
const linux = (id: string): ReturnType<typeof machineView> =>
  machineView({
    id,
    name: id.split('/').at(-1) ?? '',
    location: 'westeurope',
    tags: {},
    properties: { osName: 'Ubuntu', osType: 'linux' },
  });

void describe('guest configuration entries of the built-in initiative', () => {
  void test('a Linux machine in the group gets all three configurations', () => {
    const entries = applicablePolicies(linux(WEB), [initiative], [], 0);
    assert.deepEqual(
      entries.map((e) => [e.policyDefinitionReferenceId, e.guestConfiguration?.name, e.effect]),
      [
        ['LinuxSecurityBaseline', 'AzureLinuxBaseline', 'AuditIfNotExists'],
        ['LinuxRequireSshKeys', 'LinuxNoPasswordForSSH', 'AuditIfNotExists'],
        ['LinuxNoAccountsWithoutPasswords', 'PasswordPolicy_msid110', 'AuditIfNotExists'],
      ],
    );
    assert.equal(entries[0]?.policySetDefinitionId, setId);
    assert.equal(entries[0]?.policyAssignmentName, 'linux');
  });
  void test('a machine in notScopes, a Windows machine and a machine elsewhere get none', () => {
    const windows = machineView({
      id: WEB,
      name: 'web01',
      location: 'x',
      tags: {},
      properties: { osName: 'Windows Server 2022', osType: 'windows' },
    });
    assert.deepEqual(applicablePolicies(linux(DB), [initiative], [], 0), []);
    assert.deepEqual(applicablePolicies(windows, [initiative], [], 0), []);
    assert.deepEqual(applicablePolicies(linux(OTHER), [initiative], [], 0), []);
  });

  const expiry = Date.UTC(2026, 5, 1);
  const exemption = (overrides: Partial<ExemptionRecord>): ExemptionRecord => ({
    id: `${WEB}/providers/microsoft.authorization/policyexemptions/e`,
    scope: WEB,
    policyAssignmentId: initiative.record.id,
    policyDefinitionReferenceIds: [],
    exemptionCategory: 'Waiver',
    expiresOn: undefined,
    ...overrides,
  });
  /** exemption → which of the three members it covers, at `now`. */
  const TABLE: [string, ExemptionRecord, number, boolean[]][] = [
    ['whole assignment', exemption({}), 0, [true, true, true]],
    [
      'one member',
      exemption({ policyDefinitionReferenceIds: ['linuxrequiresshkeys'] }),
      0,
      [false, true, false],
    ],
    ['at the resource group', exemption({ scope: RG }), 0, [true, true, true]],
    ['on another machine', exemption({ scope: DB }), 0, [false, false, false]],
    [
      'for another assignment',
      exemption({
        policyAssignmentId: `${SUB}/providers/microsoft.authorization/policyassignments/x`,
      }),
      0,
      [false, false, false],
    ],
    [
      'a millisecond before expiry',
      exemption({ expiresOn: new Date(expiry).toISOString() }),
      expiry - 1,
      [true, true, true],
    ],
    [
      'exactly at expiry',
      exemption({ expiresOn: new Date(expiry).toISOString() }),
      expiry,
      [false, false, false],
    ],
  ];
  for (const [label, record, now, covered] of TABLE) {
    void test(`exemption ${label}`, () => {
      const entries = applicablePolicies(linux(WEB), [initiative], [record], now);
      assert.deepEqual(
        entries.map((e) => e.exemption !== undefined),
        covered,
      );
      const first = entries.find((e) => e.exemption !== undefined);
      if (first !== undefined) assert.equal(first.exemption?.category, 'Waiver');
    });
  }
});

void describe('Deny decision for allowed extensions', () => {
  const definition = BUILT_IN_POLICY_DEFINITIONS.find((b) => b.name === ALLOWED_EXTENSIONS_POLICY);
  const document = parsePolicyDefinition(definition?.properties);
  const assign = (
    enforcementMode: AssignmentRecord['enforcementMode'],
    effect = 'Deny',
  ): ReturnType<typeof compileAssignment> =>
    compileAssignment(
      {
        id: `${RG}/providers/microsoft.authorization/policyassignments/allowed`,
        name: 'allowed',
        displayName: 'Allowed extensions',
        scope: RG,
        notScopes: [],
        enforcementMode,
        policyDefinitionId: 'd',
        parameters: {
          allowedExtensions: { value: ['AzureMonitorLinuxAgent'] },
          effect: { value: effect },
        },
      },
      { kind: 'definition', id: 'd', document },
    );
  const ext = (publisher: string, type: string): ReturnType<typeof extensionView> =>
    extensionView({
      id: `${WEB}/extensions/x`,
      name: 'x',
      location: 'westeurope',
      tags: {},
      publisher,
      type,
    });
  const TABLE: [string, ReturnType<typeof compileAssignment>, PolicyResourceView, boolean][] = [
    [
      'listed extension',
      assign('Default'),
      ext('Microsoft.Azure.Monitor', 'AzureMonitorLinuxAgent'),
      false,
    ],
    [
      'listed extension, other case',
      assign('Default'),
      ext('microsoft.azure.monitor', 'azuremonitorlinuxagent'),
      false,
    ],
    [
      'unlisted extension',
      assign('Default'),
      ext('Microsoft.Azure.Extensions', 'CustomScript'),
      true,
    ],
    [
      'unlisted, DoNotEnforce',
      assign('DoNotEnforce'),
      ext('Microsoft.Azure.Extensions', 'CustomScript'),
      false,
    ],
    [
      'unlisted, effect Audit',
      assign('Default', 'Audit'),
      ext('Microsoft.Azure.Extensions', 'CustomScript'),
      false,
    ],
    [
      'unlisted, effect Disabled',
      assign('Default', 'Disabled'),
      ext('Microsoft.Azure.Extensions', 'CustomScript'),
      false,
    ],
    ['a machine is no extension', assign('Default'), linux(WEB), false],
  ];
  for (const [label, assignment, view, denied] of TABLE) {
    void test(label, () => {
      const entry = denyingEntry(applicablePolicies(view, [assignment], [], 0));
      assert.equal(entry !== undefined, denied);
      if (entry !== undefined)
        assert.equal(entry.policyAssignmentDisplayName, 'Allowed extensions');
    });
  }
});

void describe('audit verdicts', () => {
  const rule = (effect: string) =>
    compileAssignment(
      {
        id: `${RG}/providers/microsoft.authorization/policyassignments/${effect}`,
        name: effect,
        displayName: undefined,
        scope: RG,
        notScopes: [],
        enforcementMode: 'Default',
        policyDefinitionId: `${SUB}/providers/microsoft.authorization/policydefinitions/${effect}`,
        parameters: {},
      },
      {
        kind: 'definition',
        id: `${SUB}/providers/microsoft.authorization/policydefinitions/${effect}`,
        document: parsePolicyDefinition({
          mode: 'Indexed',
          policyRule: { if: { field: 'name', equals: 'web01' }, then: { effect } },
        }),
      },
    );
  // [effect, resource, matching, compliant]
  const TABLE: [string, string, number, number][] = [
    ['Audit', WEB, 1, 0],
    ['Audit', DB, 0, 1],
    ['Audit', OTHER, 0, 0],
    ['Deny', DB, 0, 1],
    ['Disabled', DB, 0, 0],
    ['Disabled', WEB, 0, 0],
  ];
  for (const [effect, resource, matching, compliant] of TABLE) {
    void test(`${effect} on ${resource.split('/').at(-1) ?? ''}: ${matching} matching, ${compliant} compliant`, () => {
      const verdicts = evaluatePolicies(linux(resource), [rule(effect)], [], 0);
      assert.equal(verdicts.matching.length, matching);
      assert.equal(verdicts.compliant.length, compliant);
    });
  }
});
