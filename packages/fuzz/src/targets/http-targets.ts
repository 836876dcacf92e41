// HTTP targets, in process through Fastify's inject: ARM requests (paths, query and bodies),
// bearer JWTs, and the token endpoint's form bodies and client assertions. Any 5xx is a finding.
import { randomUUID } from 'node:crypto';
import { ArmTestApp } from '@tether/control-plane/resources/arm-test-app';
import { OWNER_ROLE_ID } from '@tether/control-plane/rbac/built-in-roles';
import { TestControlPlane } from '@tether/control-plane/server/test-control-plane';
import type { FastifyInstance } from 'fastify';
import fc from 'fast-check';
import { jsonAround, textFrom } from '../arbitraries.js';
import { describeError } from '../expect-only.js';
import { fuzzTarget, type FuzzTarget } from '../fuzz-target.js';

/** Requests are slower than parser calls; the long run still sends the full million. */
interface HttpInput {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly payload?: string;
}

async function answerOf(app: FastifyInstance, input: HttpInput): Promise<string | undefined> {
  try {
    const response = await app.inject({
      method: input.method as 'GET',
      url: input.url,
      headers: input.headers,
      ...(input.payload === undefined ? {} : { payload: input.payload }),
    });
    return response.statusCode >= 500
      ? `5xx ${response.statusCode}: ${response.body.slice(0, 300)}`
      : undefined;
  } catch (error) {
    return `crash: ${describeError(error)}`;
  }
}

/**
 * The path as a client can send it: starting with '/', and with control characters, spaces and
 * non-ASCII percent-encoded (an HTTP request line carries no others), and backslashes: inject reads
 * the URL with WHATWG rules, where a leading slash and backslash start an authority and throw.
 */
function requestTarget(path: string): string {
  const escaped = path.replace(/[^\x21-\x5b\x5d-\x7e]/gu, (c) =>
    [...Buffer.from(c)].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join(''),
  );
  return `/${escaped.replace(/^\/+/, '')}`;
}

const b64 = (value: unknown): string =>
  Buffer.from(typeof value === 'string' ? value : (JSON.stringify(value) ?? '')).toString(
    'base64url',
  );

/** JWT-shaped text: forged header and claims, an odd signature, sometimes extra dots. */
function jwtLike(extraLeaves: readonly unknown[]): fc.Arbitrary<string> {
  const header = jsonAround(
    ['alg', 'typ', 'kid', 'x5t', 'x5t#S256', 'crit', 'jku', 'x5c'],
    ['RS256', 'ES256', 'PS256', 'none', 'HS256', 'JWT', 'EdDSA', ...extraLeaves],
    2,
  );
  const claims = jsonAround(
    ['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'tid', 'oid', 'appid', 'scp', 'roles', 'ver'],
    [1_700_000_000, 4_000_000_000, -1, 1e300, ...extraLeaves],
    2,
  );
  return fc.oneof(
    fc
      .tuple(header, claims, fc.string({ maxLength: 16 }), fc.constantFrom('', '.', '.x'))
      .map(([h, c, s, extra]) => `${b64(h)}.${b64(c)}.${b64(s)}${extra}`),
    textFrom(['eyJ', '.', 'e30', '-', '_', '=', 'Bearer ', ' ']),
  );
}

const ARM_PATHS = [
  '/subscriptions/',
  'SUB',
  '/resourceGroups/',
  'rg1',
  '/providers/',
  'Microsoft.HybridCompute/machines/',
  'web01',
  '/extensions/',
  'ext1',
  'Microsoft.Authorization/',
  'roleAssignments/',
  'roleDefinitions/',
  'policyDefinitions/',
  'policyAssignments/',
  'policyExemptions/',
  'Microsoft.PolicyInsights/policyStates/latest/queryResults',
  'Microsoft.Insights/eventtypes/management/values',
  'locks/',
  '/',
  '?api-version=',
  '&api-version=',
  '2024-07-10',
  '2022-04-01',
  '2021-06-01',
  '&$filter=',
  'atScope()',
  '&$top=',
  '&$skipToken=',
  '%2F',
  '%',
  randomUUID(),
];

const ARM_KEYS = [
  'location',
  'properties',
  'tags',
  'name',
  'type',
  'id',
  'kind',
  'identity',
  'roleDefinitionId',
  'principalId',
  'principalType',
  'scope',
  'roleName',
  'permissions',
  'actions',
  'notActions',
  'dataActions',
  'assignableScopes',
  'policyDefinitionId',
  'parameters',
  'policyRule',
  'if',
  'then',
  'effect',
  'field',
  'equals',
  'displayName',
  'publisher',
  'typeHandlerVersion',
  'settings',
  'protectedSettings',
  'autoUpgradeMinorVersion',
  'enableAutomaticUpgrade',
  'exemptionCategory',
  'expiresOn',
  'notScopes',
  'value',
  'mode',
];

const ARM_LEAVES = [
  'eastus',
  'local',
  OWNER_ROLE_ID,
  'Microsoft.HybridCompute/machines',
  'Audit',
  'Deny',
  'Waiver',
  'ServicePrincipal',
  '2030-01-01T00:00:00Z',
  '*',
  '/',
  'x'.repeat(300),
];

const armRequests = fuzzTarget(
  'arm-requests',
  'control-plane ARM routes: resource ids, query values and JSON bodies (arm-request, arm-scope)',
  async () => {
    const t = await ArmTestApp.start({ fast: true });
    const sub = await t.addSubscription();
    await t.addResourceGroup(sub, 'rg1');
    await t.addMachine(sub, 'rg1', 'web01');
    const owner = await t.addPrincipal();
    await t.assign(owner, OWNER_ROLE_ID, `/subscriptions/${sub}`);
    return {
      arbitrary: fc.record({
        method: fc.constantFrom('GET', 'PUT', 'PATCH', 'DELETE', 'POST', 'HEAD'),
        path: textFrom(ARM_PATHS, 14),
        body: fc.oneof(
          {
            weight: 4,
            arbitrary: jsonAround(ARM_KEYS, ARM_LEAVES, 5).map((v) => JSON.stringify(v)),
          },
          { weight: 1, arbitrary: textFrom(['{', '}', '"', ':', '[', 'null', '\u0000']) },
        ),
        contentType: fc.constantFrom(
          'application/json',
          'text/plain',
          'application/json; charset=latin1',
        ),
        authorized: fc.boolean(),
      }),
      check: (input: {
        method: string;
        path: string;
        body: string;
        contentType: string;
        authorized: boolean;
      }) =>
        answerOf(t.app, {
          method: input.method,
          url: requestTarget(input.path.replaceAll('SUB', sub)),
          headers: {
            'content-type': input.contentType,
            ...(input.authorized ? { authorization: `Bearer ${owner}` } : {}),
          },
          ...(input.method === 'GET' || input.method === 'HEAD' ? {} : { payload: input.body }),
        }),
      close: () => t.close(),
    };
  },
);

const bearerTokens = fuzzTarget(
  'bearer-tokens',
  'control-plane bearer JWT validation on ARM and Graph requests',
  async () => {
    const plane = await TestControlPlane.start();
    return {
      arbitrary: fc.record({
        url: fc.constantFrom(
          '/subscriptions?api-version=2022-12-01',
          '/v1.0/servicePrincipals',
          '/providers/Microsoft.Authorization/roleDefinitions?api-version=2022-04-01',
        ),
        authorization: fc.oneof(
          jwtLike([plane.tenantId, 'https://management.azure.com']).map((jwt) => `Bearer ${jwt}`),
          textFrom(['Bearer', ' ', 'Basic', 'eyJ', '.', ',']),
        ),
      }),
      check: (input: { url: string; authorization: string }) =>
        answerOf(plane.app, {
          method: 'GET',
          url: input.url,
          headers: { authorization: input.authorization },
        }),
      close: () => plane.close(),
    };
  },
);

const tokenEndpoint = fuzzTarget(
  'token-endpoint',
  'control-plane token endpoint: form bodies and client assertions (client-assertion.ts)',
  async () => {
    const plane = await TestControlPlane.start();
    const appId = plane.installation.appId;
    const fields = fc.dictionary(
      fc.constantFrom(
        'grant_type',
        'client_id',
        'client_secret',
        'scope',
        'client_assertion_type',
        'client_assertion',
        'resource',
        'refresh_token',
        'code',
      ),
      fc.oneof(
        fc.constantFrom(
          'client_credentials',
          'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          appId,
          'https://management.azure.com/.default',
          'https://graph.microsoft.com/.default',
          plane.installation.password,
          '',
          ' ',
        ),
        jwtLike([appId, `https://tether.test:8443/${plane.tenantId}/oauth2/v2.0/token`]),
        textFrom(['a', '%', '&', '=', '+', '.default', ' ']),
      ),
    );
    return {
      arbitrary: fc.record({
        tenant: fc.constantFrom(plane.tenantId, 'common', 'organizations', '', '..', '%00'),
        body: fc.oneof(
          { weight: 5, arbitrary: fields.map((f) => new URLSearchParams(f).toString()) },
          {
            weight: 1,
            arbitrary: textFrom(['=', '&', '%', 'grant_type', 'client_id', '%zz', '+']),
          },
        ),
        contentType: fc.constantFrom(
          'application/x-www-form-urlencoded',
          'application/json',
          'text/plain',
          'multipart/form-data',
        ),
      }),
      check: (input: { tenant: string; body: string; contentType: string }) => {
        // A fresh failure window per input, so the sign-in limits do not hide deeper checks.
        plane.clock.advance(60_000);
        return answerOf(plane.app, {
          method: 'POST',
          url: `/${input.tenant}/oauth2/v2.0/token`,
          headers: { 'content-type': input.contentType },
          payload: input.body,
        });
      },
      close: () => plane.close(),
    };
  },
);

export const HTTP_TARGETS: readonly FuzzTarget[] = [armRequests, bearerTokens, tokenEndpoint];
