// Targets for parsers of text from the network: ARM scopes, OData filters and the signed
// statements of extension, guest configuration and agent packages.
import { generateKeyPairSync } from 'node:crypto';
import {
  AGENT_PACKAGE_SIGNATURE_TYPE,
  PACKAGE_SIGNATURE_TYPE,
  publisherKeyId,
  readUnverifiedAgentPackageStatement,
  readUnverifiedStatement,
  verifyAgentPackage,
  verifyPackage,
} from '@tether/protocol/extension-package';
import { parseScope } from '@tether/control-plane/resources/arm-scope';
import { andClauses } from '@tether/control-plane/resources/odata-clauses';
import { parseActivityFilter } from '@tether/control-plane/activity/activity-filter';
import { parseStateFilter } from '@tether/control-plane/compliance/odata-filter';
import { parseDefinitionFilter } from '@tether/control-plane/authorization/role-definition-filter';
import { parseAssignmentFilter } from '@tether/control-plane/authorization/role-assignment-filter';
import { parsePolicyListFilter } from '@tether/control-plane/policy-service/policy-list-filter';
import fc from 'fast-check';
import { CompactSign } from 'jose';
import { jsonAround, textFrom } from '../arbitraries.js';
import { expectOnly, expectOnlyAsync, tetherError } from '../expect-only.js';
import { fuzzTarget, type FuzzTarget } from '../fuzz-target.js';

const GUID = '00000000-0000-0000-0000-000000000001';

const armScope = fuzzTarget('arm-scope', 'control-plane resources/arm-scope parseScope', () => ({
  arbitrary: textFrom([
    '/',
    '/subscriptions/',
    GUID,
    '/resourceGroups/',
    'rg',
    '/providers/',
    'Microsoft.HybridCompute/machines/',
    'm1',
    '/extensions/',
    '//',
    '..',
    '%2F',
    'A',
    '-',
    '.',
  ]),
  check: (text: string) => expectOnly(tetherError, () => parseScope(text)),
}));

const FILTER_TOKENS = [
  ' and ',
  ' AND ',
  ' or ',
  ' eq ',
  ' ge ',
  ' le ',
  "'",
  "''",
  'roleName',
  'type',
  'atScope()',
  'principalId',
  'assignedTo(',
  ')',
  '(',
  'eventTimestamp',
  'resourceGroupName',
  'resourceUri',
  'complianceState',
  'policyAssignmentId',
  'policyDefinitionId',
  'resourceId',
  'Compliant',
  'NonCompliant',
  'BuiltInRole',
  'CustomRole',
  'excludeExpired()',
  'policyDefinitionId',
  '2024-01-01T00:00:00Z',
  '2030-13-40T99:99:99Z',
  GUID,
  ' ',
  '\t',
  'policyType',
  'category',
];

/** Every $filter parser sees the same text, the way each route would receive it. */
const odataFilters = fuzzTarget(
  'odata-filters',
  'control-plane $filter parsers (andClauses, role, assignment, activity, compliance, policy lists)',
  () => ({
    // Long filters test the length limit and linear parsing; one input in ten is one, of a
    // length drawn around the limit (half of them, all 2,000 long, were most of the run's time).
    arbitrary: fc.oneof(
      { weight: 9, arbitrary: textFrom(FILTER_TOKENS, 16) },
      {
        weight: 1,
        arbitrary: fc
          .tuple(fc.constantFrom(' and ', "'", 'a', "eq '"), fc.integer({ min: 200, max: 5000 }))
          .map(([unit, length]) => unit.repeat(Math.ceil(length / unit.length)).slice(0, length)),
      },
    ),
    check: (text: string) =>
      expectOnly(tetherError, () => andClauses(text)) ??
      expectOnly(tetherError, () => parseDefinitionFilter(text)) ??
      expectOnly(tetherError, () => parseAssignmentFilter(text)) ??
      expectOnly(tetherError, () => parseActivityFilter(text, GUID, 1_700_000_000_000)) ??
      expectOnly(tetherError, () => parseStateFilter(text)) ??
      expectOnly(tetherError, () => parsePolicyListFilter(text, 'assignment')) ??
      expectOnly(tetherError, () => parsePolicyListFilter(text, 'exemption')),
  }),
);

const base64url = (value: unknown): string =>
  Buffer.from(typeof value === 'string' ? value : (JSON.stringify(value) ?? '')).toString(
    'base64url',
  );

/** Compact JWS statements: forged headers and payloads, or a real signature over odd content. */
const packageStatements = fuzzTarget(
  'package-statements',
  'protocol extension-package readUnverified(AgentPackage)Statement and verify(Agent)Package (JWS statements)',
  () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const kid = publisherKeyId(privateKey);
    const zip = new Uint8Array([80, 75, 5, 6, 0, 0, 0, 0]);
    const identity = { publisher: 'Contoso', type: 'Tool', version: '1.0' };
    const header = jsonAround(
      ['alg', 'typ', 'kid', 'crit', 'b64', 'jwk'],
      [
        'EdDSA',
        'ES256',
        'none',
        'HS256',
        PACKAGE_SIGNATURE_TYPE,
        AGENT_PACKAGE_SIGNATURE_TYPE,
        kid,
        false,
        ['b64'],
        { toString: 1 },
      ],
      2,
    );
    const statement = jsonAround(
      ['publisher', 'type', 'package', 'version', 'sha256', 'size'],
      ['Contoso', 'Tool', 'azcmagent', '1.0', '1.0.0.0.0', 8, -1, 'x'.repeat(43), 1e20],
      2,
    );
    const forged = fc
      .tuple(header, statement, fc.string({ maxLength: 20 }), fc.constantFrom('.', '..', ''))
      .map(([h, s, sig, extra]) => `${base64url(h)}.${base64url(s)}.${base64url(sig)}${extra}`);
    return {
      arbitrary: fc.oneof(
        fc.record({
          signature: textFrom(['.', 'eyJ', 'e30', '==', '-', '_']),
          sign: fc.constant(false),
          agent: fc.boolean(),
        }),
        fc.record({ signature: forged, sign: fc.constant(false), agent: fc.boolean() }),
        fc.record({
          signature: statement.map((s) => JSON.stringify(s) ?? ''),
          sign: fc.constant(true),
          agent: fc.boolean(),
        }),
      ),
      check: async (input: { signature: string; sign: boolean; agent: boolean }) => {
        const typ = input.agent ? AGENT_PACKAGE_SIGNATURE_TYPE : PACKAGE_SIGNATURE_TYPE;
        const signature = input.sign
          ? await new CompactSign(new TextEncoder().encode(input.signature))
              .setProtectedHeader({ alg: 'EdDSA', typ, kid })
              .sign(privateKey)
          : input.signature;
        return (
          expectOnly(tetherError, () => readUnverifiedStatement(signature)) ??
          expectOnly(tetherError, () => readUnverifiedAgentPackageStatement(signature)) ??
          (await expectOnlyAsync(tetherError, () =>
            verifyPackage(signature, [publicKey], identity, zip),
          )) ??
          (await expectOnlyAsync(tetherError, () =>
            verifyAgentPackage(signature, [publicKey], '1.0', zip),
          ))
        );
      },
    };
  },
);

export const TEXT_TARGETS: readonly FuzzTarget[] = [armScope, odataFilters, packageStatements];
