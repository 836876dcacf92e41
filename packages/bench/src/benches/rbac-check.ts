// Permission-check latency of the control plane's Authorizer holding 100,000 role assignments
// for 10,000 principals, beside node-casbin holding the same policy in an equivalent model.
import { Authorizer } from '@tether/control-plane/rbac/authorizer';
import {
  BUILT_IN_ROLES,
  CONNECTED_MACHINE_ONBOARDING_ROLE_ID,
  CONNECTED_MACHINE_RESOURCE_ADMINISTRATOR_ROLE_ID,
  CONTRIBUTOR_ROLE_ID,
  OWNER_ROLE_ID,
  READER_ROLE_ID,
  USER_ACCESS_ADMINISTRATOR_ROLE_ID,
} from '@tether/control-plane/rbac/built-in-roles';
import type { RoleAssignment, RoleDefinition } from '@tether/control-plane/rbac/types';
import { newEnforcer, newModelFromString } from 'casbin';
import { cpus, loadavg } from 'node:os';
import type { Enforcer } from 'casbin';
import { report, summarize } from '../stats.js';

const USERS = 9_000;
const GROUPS = 1_000;
const RESOURCE_GROUPS = 100;
const MACHINES_PER_GROUP = 10;
const ASSIGNMENTS = 100_000;
const AUTHORIZER_WARMUP = 50_000;
const AUTHORIZER_CHECKS = 200_000;
/** casbin rebuilds its role graph on every domain-pattern lookup: it gets fewer checks, in a budget. */
const CASBIN_CHECKS = 1_000;
const CASBIN_BUDGET_MS = 35_000;

const SUB = '/subscriptions/5f0d3e1c-6a8b-4c2d-9e7f-0a1b2c3d4e5f';
const ACTIONS = [
  'Microsoft.HybridCompute/machines/read',
  'Microsoft.HybridCompute/machines/write',
  'Microsoft.HybridCompute/machines/delete',
  'Microsoft.HybridCompute/machines/extensions/read',
  'Microsoft.HybridCompute/machines/extensions/write',
  'Microsoft.HybridCompute/machines/extensions/delete',
  'Microsoft.HybridCompute/machines/UpgradeExtensions/action',
  'Microsoft.HybridCompute/privateLinkScopes/write',
  'Microsoft.GuestConfiguration/guestConfigurationAssignments/read',
  'Microsoft.Authorization/roleAssignments/read',
  'Microsoft.Authorization/roleAssignments/write',
  'Microsoft.Authorization/roleDefinitions/delete',
  'Microsoft.Resources/subscriptions/resourceGroups/read',
  'Microsoft.Resources/subscriptions/resourceGroups/write',
  'Microsoft.Resources/deployments/delete',
  'Microsoft.Insights/eventtypes/values/read',
];

interface Query {
  principal: string;
  action: string;
  /** As the API layer passes it: ARM casing, for the Authorizer to normalize. */
  scope: string;
}

interface Policy {
  roles: RoleDefinition[];
  assignments: RoleAssignment[];
  members: Map<string, string[]>;
  users: string[];
  groups: string[];
  scopes: { resourceGroups: string[]; machines: string[] };
}

/** Deterministic PRNG (mulberry32) so every run measures the same policy and queries. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(next: () => number, items: readonly T[]): T {
  const item = items[Math.floor(next() * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

function weighted<T>(next: () => number, table: readonly (readonly [T, number])[]): T {
  let roll = next() * table.reduce((sum, [, w]) => sum + w, 0);
  for (const [item, weight] of table) if ((roll -= weight) < 0) return item;
  return pick(next, table)[0];
}

function custom(name: string, roleName: string, blocks: [string[], string[]][]): RoleDefinition {
  return {
    name,
    roleName,
    description: 'benchmark custom role',
    roleType: 'CustomRole',
    permissions: blocks.map(([actions, notActions]) => ({
      actions,
      notActions,
      dataActions: [],
      notDataActions: [],
    })),
    assignableScopes: [SUB],
  };
}

function generatePolicy(): Policy {
  const next = random(20_261_101);
  const customRoles = [
    custom('c0000000-0000-4000-8000-000000000001', 'Machine operator', [
      [
        ['Microsoft.HybridCompute/machines/*'],
        ['Microsoft.HybridCompute/machines/delete', '*/extensions/write'],
      ],
    ]),
    custom('c0000000-0000-4000-8000-000000000002', 'Hybrid reader', [
      [['Microsoft.HybridCompute/*/read', 'Microsoft.GuestConfiguration/*/read'], []],
    ]),
    custom('c0000000-0000-4000-8000-000000000003', 'Everything but machines and access', [
      [['*'], ['Microsoft.HybridCompute/*', 'Microsoft.Authorization/*']],
    ]),
    custom('c0000000-0000-4000-8000-000000000004', 'Resources without delete, plus deletes', [
      [['Microsoft.Resources/*'], ['*/delete']],
      [['*/delete'], ['Microsoft.Authorization/*']],
    ]),
  ];
  const roleWeights: [string, number][] = [
    [READER_ROLE_ID, 30],
    [CONTRIBUTOR_ROLE_ID, 8],
    [OWNER_ROLE_ID, 2],
    [USER_ACCESS_ADMINISTRATOR_ROLE_ID, 2],
    [CONNECTED_MACHINE_ONBOARDING_ROLE_ID, 10],
    [CONNECTED_MACHINE_RESOURCE_ADMINISTRATOR_ROLE_ID, 18],
    ...customRoles.map((r): [string, number] => [r.name, 7.5]),
  ];
  const resourceGroups = Array.from(
    { length: RESOURCE_GROUPS },
    (_, i) => `${SUB}/resourceGroups/rg-${i}`,
  );
  const machines = resourceGroups.flatMap((rg) =>
    Array.from(
      { length: MACHINES_PER_GROUP },
      (_, j) => `${rg}/providers/Microsoft.HybridCompute/machines/web-${j}`,
    ),
  );
  const users = Array.from({ length: USERS }, (_, i) => `${i % 5 === 0 ? 'sp' : 'user'}-${i}`);
  const groups = Array.from({ length: GROUPS }, (_, i) => `group-${i}`);
  const members = new Map<string, string[]>(groups.map((g) => [g, []]));
  for (const user of users) {
    const count = Math.floor(next() * 4);
    for (let k = 0; k < count; k++) members.get(pick(next, groups.slice(0, 900)))?.push(user);
  }
  // Two levels of nesting: group-95x in group-90x, and group-90x in one of group-0…899.
  for (let i = 900; i < GROUPS; i++) {
    const parent = i >= 950 ? groups[i - 50] : pick(next, groups.slice(0, 900));
    if (parent !== undefined) members.get(parent)?.push(`group-${i}`);
  }
  for (const [group, list] of members) members.set(group, [...new Set(list)]);
  const assignments = Array.from({ length: ASSIGNMENTS }, (_, i): RoleAssignment => {
    const isGroup = next() < 0.2;
    const scope = weighted<string>(next, [
      ['/', 0.0005],
      [SUB, 0.02],
      [pick(next, resourceGroups), 0.18],
      [pick(next, machines), 0.7995],
    ]);
    const role = weighted(next, roleWeights);
    return {
      name: `a-${i}`,
      scope: role.startsWith('c0000000') && scope === '/' ? SUB : scope,
      roleDefinitionName: role,
      principalId: isGroup ? pick(next, groups) : pick(next, users),
      principalType: isGroup
        ? 'Group'
        : pick(next, users).startsWith('sp')
          ? 'ServicePrincipal'
          : 'User',
    };
  });
  return {
    roles: customRoles,
    assignments,
    members,
    users,
    groups,
    scopes: { resourceGroups, machines },
  };
}

function generateQueries(policy: Policy, count: number, seed: number): Query[] {
  const next = random(seed);
  return Array.from({ length: count }, () => ({
    principal: next() < 0.9 ? pick(next, policy.users) : pick(next, policy.groups),
    action: pick(next, ACTIONS),
    scope: weighted<string>(next, [
      [pick(next, policy.scopes.machines), 0.7],
      [`${pick(next, policy.scopes.machines)}/extensions/AzureMonitorLinuxAgent`, 0.05],
      [pick(next, policy.scopes.resourceGroups), 0.17],
      [SUB, 0.08],
    ]),
  }));
}

function loadAuthorizer(policy: Policy): Authorizer {
  const engine = new Authorizer();
  policy.roles.forEach((r) => engine.putRoleDefinition(r));
  policy.assignments.forEach((a) => engine.putRoleAssignment(a));
  for (const [group, list] of policy.members) engine.setGroupMembers(group, list);
  return engine;
}

/** Azure's `*` spans '/': each pattern becomes an anchored, lower-case regular expression. */
function toRegex(patterns: readonly string[]): string {
  if (patterns.length === 0) return '(?!)';
  const alternatives = patterns.map((p) =>
    p
      .toLowerCase()
      .split('*')
      .map((piece) => piece.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'))
      .join('.*'),
  );
  return `^(?:${alternatives.join('|')})$`;
}

const CASBIN_MODEL = `
[request_definition]
r = sub, scope, act

[policy_definition]
p = sub, act, nact

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = regexMatch(r.act, p.act) && !regexMatch(r.act, p.nact) && g(r.sub, p.sub, r.scope)
`;

/**
 * One policy line per (role, permission block, action); assignments are g(principal, role,
 * scope) and memberships g(member, group, '/'), with a domain matching function that makes a
 * link made at a scope hold at every scope below it.
 */
async function loadCasbin(policy: Policy): Promise<Enforcer> {
  const enforcer = await newEnforcer(newModelFromString(CASBIN_MODEL));
  await enforcer.addNamedDomainMatchingFunc(
    'g',
    (requested: string, stored: string) =>
      stored === '/' ||
      requested === stored ||
      (stored !== '' && requested.startsWith(`${stored}/`)),
  );
  const rules = [...BUILT_IN_ROLES, ...policy.roles].flatMap((role) =>
    role.permissions.flatMap((block) =>
      block.actions.map((action) => [role.name, toRegex([action]), toRegex(block.notActions)]),
    ),
  );
  await enforcer.addPolicies(rules);
  const links = policy.assignments.map((a) => [
    a.principalId,
    a.roleDefinitionName,
    a.scope.toLowerCase(),
  ]);
  for (const [group, list] of policy.members)
    list.forEach((member) => links.push([member, group, '/']));
  await enforcer.addGroupingPolicies(links);
  return enforcer;
}

function casbinAllows(enforcer: Enforcer, q: Query): boolean {
  return enforcer.enforceSync(q.principal, q.scope.toLowerCase(), q.action.toLowerCase());
}

/**
 * Times each check on its own with performance.now(), which allocates nothing (hrtime.bigint
 * would, and its collections would land in the samples); samples and answers go to
 * preallocated arrays.
 */
function timeEach(queries: readonly Query[], check: (q: Query) => boolean, budgetMs = Infinity) {
  const micros = new Float64Array(queries.length);
  const answers = new Uint8Array(queries.length);
  let n = 0;
  const start = performance.now();
  for (const q of queries) {
    const before = performance.now();
    const answer = check(q);
    const after = performance.now();
    answers[n] = answer ? 1 : 0;
    micros[n++] = (after - before) * 1000;
    if (after - start > budgetMs) break;
  }
  const allowed = answers.reduce((sum, a) => sum + a, 0);
  return {
    ...summarize(Array.from(micros.subarray(0, n))),
    allowed,
    answers: answers.subarray(0, n),
  };
}

async function timeLoad<T>(load: () => T | Promise<T>): Promise<{ value: T; ms: number }> {
  const start = process.hrtime.bigint();
  const value = await load();
  return { value, ms: Number(process.hrtime.bigint() - start) / 1e6 };
}

function percent(part: number, whole: number): string {
  return `${((100 * part) / whole).toFixed(1)}%`;
}

export async function run(): Promise<void> {
  const policy = generatePolicy();
  const memberships = [...policy.members.values()].reduce((n, list) => n + list.length, 0);
  console.log(
    `\nrbac-check: ${USERS + GROUPS} principals (${GROUPS} groups, ${memberships} memberships), ` +
      `${ASSIGNMENTS} assignments over 1 subscription, ${RESOURCE_GROUPS} resource groups, ` +
      `${RESOURCE_GROUPS * MACHINES_PER_GROUP} machines; ${BUILT_IN_ROLES.length} built-in + ${policy.roles.length} custom roles`,
  );
  // The Authorizer is timed before casbin is loaded, so neither runs beside the other's heap.
  const authorizer = await timeLoad(() => loadAuthorizer(policy));
  const engine = authorizer.value;
  const check = (q: Query): boolean => engine.isAllowed(q.principal, q.action, q.scope);
  // Generated before the warm-up, so that the warm-up's collections move them out of the way.
  const timed = generateQueries(policy, AUTHORIZER_CHECKS, 3);
  // Steady state: the warm-up asks once for every principal, so the one-off lazy work (a
  // principal's group closure and packed assignments) is not counted as check latency.
  const everyone = [...policy.users, ...policy.groups].map((principal) => ({
    principal,
    action: ACTIONS[0] ?? '',
    scope: SUB,
  }));
  timeEach([...everyone, ...generateQueries(policy, AUTHORIZER_WARMUP, 2)], check);
  const ours = timeEach(timed, check);

  const casbin = await timeLoad(() => loadCasbin(policy));
  // Each casbin check takes long enough that the timed checks double as the equivalence sample.
  const sample = generateQueries(policy, CASBIN_CHECKS, 1);
  const theirs = timeEach(sample, (q) => casbinAllows(casbin.value, q), CASBIN_BUDGET_MS);
  const mismatches = sample
    .slice(0, theirs.n)
    .filter((q, i) => check(q) !== (theirs.answers[i] === 1));
  console.log(`equivalence: ${mismatches.length} mismatches in ${theirs.n} random checks`);
  for (const q of mismatches.slice(0, 5)) console.log(`  mismatch: ${JSON.stringify(q)}`);
  console.log(
    `authorizer: ${ours.n} checks timed, ${percent(ours.allowed, ours.n)} allowed; ` +
      `casbin: only ${theirs.n} checks timed (each takes ~${(theirs.p50 / 1000).toFixed(0)} ms: ` +
      `its role manager rebuilds the role graph of every matching domain per lookup), ` +
      `${percent(theirs.allowed, theirs.n)} allowed`,
  );
  console.log(
    `machine: ${cpus().length} CPUs, load average ${loadavg()[0]?.toFixed(1) ?? '?'} ` +
      '(figures are wall-clock per check; a busy machine inflates the tail)',
  );

  report('rbac-check: permission check, Authorizer vs node-casbin (floor) on the same policy', [
    {
      metric: 'check p50',
      value: ours.p50,
      unit: 'µs',
      floor: theirs.p50,
      target: 'faster than casbin',
    },
    {
      metric: 'check p99',
      value: ours.p99,
      unit: 'µs',
      floor: theirs.p99,
      target: '< 20 µs, faster than casbin',
    },
    { metric: 'load policy', value: authorizer.ms, unit: 'ms', floor: casbin.ms },
  ]);
  console.log(
    `Authorizer is ${(theirs.p50 / ours.p50).toFixed(0)}x faster than casbin at p50, ` +
      `${(theirs.p99 / ours.p99).toFixed(0)}x at p99; p99 target ${ours.p99 < 20 ? 'met' : 'MISSED'}; ` +
      `equivalence ${mismatches.length === 0 ? 'held' : 'BROKEN'}`,
  );
}
