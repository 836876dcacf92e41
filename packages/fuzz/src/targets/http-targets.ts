// HTTP targets, in process through Fastify's inject: ARM requests (paths, query and bodies),
// bearer JWTs, and the token endpoint's form bodies and client assertions. Any 5xx is a finding.
import { randomUUID } from 'node:crypto';
import { untrustedText } from '@tether/protocol';
import { ArmTestApp } from '@tether/control-plane/resources/testing/arm-test-app';
import { OWNER_ROLE_ID } from '@tether/control-plane/rbac/built-in-roles';
import { TestControlPlane } from '@tether/control-plane/server/testing/test-control-plane';
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

/** Distinct kinds of answer kept apart; past this many, the rest are counted together. */
const MAX_OUTCOME_KINDS = 60;

/** The kind of an answer: its status and error code (an ARM code, or OAuth's error and AADSTS). */
function kindOf(status: number, body: string): string {
  let code = '';
  try {
    const parsed = JSON.parse(body) as {
      error?: { code?: unknown } | string;
      error_codes?: unknown[];
    };
    code =
      typeof parsed.error === 'string'
        ? `${parsed.error} ${untrustedText(parsed.error_codes?.[0] ?? '')}`
        : untrustedText(parsed.error?.code ?? '');
  } catch {
    code = '';
  }
  return `${status}${code === '' ? '' : ` ${code.trim()}`}`;
}

/** Counts each kind of answer, so a run can show what its inputs reached. */
class Outcomes {
  readonly counts = new Map<string, number>();
  add(status: number, body: string): void {
    let kind = kindOf(status, body);
    if (!this.counts.has(kind) && this.counts.size >= MAX_OUTCOME_KINDS) kind = 'other';
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
  }
}

async function answerOf(
  app: FastifyInstance,
  input: HttpInput,
  outcomes: Outcomes,
): Promise<string | undefined> {
  try {
    const response = await app.inject({
      method: input.method as 'GET',
      url: input.url,
      headers: input.headers,
      ...(input.payload === undefined ? {} : { payload: input.payload }),
    });
    outcomes.add(response.statusCode, response.body);
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

/** Header and claim values that are not what they seem: String() of the first two throws. */
const CRAFTED_LEAVES: readonly unknown[] = [
  { toString: 1 },
  { toString: 'x', valueOf: [] },
  ['RS256'],
];

/** JWT-shaped text: forged header and claims, an odd signature, sometimes extra dots. */
function jwtLike(extraLeaves: readonly unknown[]): fc.Arbitrary<string> {
  const header = jsonAround(
    ['alg', 'typ', 'kid', 'x5t', 'x5t#S256', 'crit', 'jku', 'x5c'],
    ['RS256', 'ES256', 'PS256', 'none', 'HS256', 'JWT', 'EdDSA', ...CRAFTED_LEAVES, ...extraLeaves],
    2,
  );
  const claims = jsonAround(
    ['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'tid', 'oid', 'appid', 'scp', 'roles', 'ver'],
    [1_700_000_000, 4_000_000_000, -1, 1e300, ...CRAFTED_LEAVES, ...extraLeaves],
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
    const outcomes = new Outcomes();
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
        answerOf(
          t.app,
          {
            method: input.method,
            url: requestTarget(input.path.replaceAll('SUB', sub)),
            headers: {
              'content-type': input.contentType,
              ...(input.authorized ? { authorization: `Bearer ${owner}` } : {}),
            },
            ...(input.method === 'GET' || input.method === 'HEAD' ? {} : { payload: input.body }),
          },
          outcomes,
        ),
      close: () => t.close(),
      outcomes: () => outcomes.counts,
    };
  },
  {
    minutes: 25,
    covers:
      'an ARM answer turns on the method (6), the route the path reaches (31 path tokens), the api-version, whether the caller is authorized and the shape of the body, each drawn from a few values, so every route and method is reached thousands of times (the kinds of answer below show it); the parsers beneath the routes (resource ids, $filter, policy rules) run a million inputs each in their own targets.',
  },
);

const bearerTokens = fuzzTarget(
  'bearer-tokens',
  'control-plane bearer JWT validation on ARM and Graph requests',
  async () => {
    const plane = await TestControlPlane.start();
    const outcomes = new Outcomes();
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
        answerOf(
          plane.app,
          {
            method: 'GET',
            url: input.url,
            headers: { authorization: input.authorization },
          },
          outcomes,
        ),
      close: () => plane.close(),
      outcomes: () => outcomes.counts,
    };
  },
  {
    minutes: 25,
    covers:
      "a forged bearer token is refused at one of a few checks (the scheme, the JWT's form, the header's alg, its kid, then the signature), and the inputs reach each of them many times (the kinds of answer below); without the server's key nothing past the signature check is reachable, so more inputs only repeat these checks.",
  },
);

const tokenEndpoint = fuzzTarget(
  'token-endpoint',
  'control-plane token endpoint: form bodies and client assertions (client-assertion.ts)',
  async () => {
    const plane = await TestControlPlane.start();
    const appId = plane.installation.appId;
    const anyValue = fc.oneof(
      fc.constantFrom('', ' ', plane.installation.password, 'https://graph.microsoft.com/.default'),
      jwtLike([appId, `https://tether.test:8443/${plane.tenantId}/oauth2/v2.0/token`]),
      textFrom(['a', '%', '&', '=', '+', '.default', ' ']),
    );
    /** Mostly the value a real client sends, so inputs reach the checks behind this one. */
    const mostly = (good: string) =>
      fc.oneof({ weight: 4, arbitrary: fc.constant(good) }, { weight: 1, arbitrary: anyValue });
    // A client-credentials request with each field mostly right: most inputs reach the client
    // and its proof. A secret is rare, as each wrong one costs a scrypt hash.
    const request = fc
      .tuple(
        fc.record(
          {
            grant_type: mostly('client_credentials'),
            client_id: mostly(appId),
            scope: mostly('https://management.azure.com/.default'),
            client_assertion_type: mostly('urn:ietf:params:oauth:client-assertion-type:jwt-bearer'),
            client_assertion: jwtLike([
              appId,
              `https://tether.test:8443/${plane.tenantId}/oauth2/v2.0/token`,
            ]),
          },
          { requiredKeys: ['grant_type', 'client_id', 'scope'] },
        ),
        fc.oneof(
          { weight: 19, arbitrary: fc.constant(undefined) },
          { weight: 1, arbitrary: anyValue },
        ),
      )
      .map(([form, secret]) =>
        new URLSearchParams(
          secret === undefined ? form : { ...form, client_secret: secret },
        ).toString(),
      );
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
    const outcomes = new Outcomes();
    return {
      arbitrary: fc.record({
        tenant: fc.oneof(
          { weight: 8, arbitrary: fc.constant(plane.tenantId) },
          { weight: 1, arbitrary: fc.constantFrom('common', 'organizations', '', '..', '%00') },
        ),
        body: fc.oneof(
          { weight: 6, arbitrary: request },
          { weight: 2, arbitrary: fields.map((f) => new URLSearchParams(f).toString()) },
          {
            weight: 1,
            arbitrary: textFrom(['=', '&', '%', 'grant_type', 'client_id', '%zz', '+']),
          },
        ),
        contentType: fc.oneof(
          { weight: 8, arbitrary: fc.constant('application/x-www-form-urlencoded') },
          {
            weight: 1,
            arbitrary: fc.constantFrom('application/json', 'text/plain', 'multipart/form-data'),
          },
        ),
      }),
      check: (input: { tenant: string; body: string; contentType: string }) => {
        // A fresh failure window per input, so the sign-in limits do not hide deeper checks.
        plane.clock.advance(60_000);
        return answerOf(
          plane.app,
          {
            method: 'POST',
            url: `/${input.tenant}/oauth2/v2.0/token`,
            headers: { 'content-type': input.contentType },
            payload: input.body,
          },
          outcomes,
        );
      },
      close: () => plane.close(),
      outcomes: () => outcomes.counts,
    };
  },
  {
    minutes: 25,
    covers:
      "most inputs are a client-credentials request with each field mostly right, so they reach the client and its proof: the assertion's form, its header's alg and x5t, the certificate lookup, and (rarely, each costing a hash) a wrong secret; the kinds of answer below show each check reached many times, and without a registered key's signature nothing past the certificate lookup is reachable, so more inputs only repeat these checks.",
  },
);

export const HTTP_TARGETS: readonly FuzzTarget[] = [armRequests, bearerTokens, tokenEndpoint];
