// The authorization matrix: every ARM route × every built-in role × where the role is
// assigned (the resource, its group, its subscription, another group, nowhere) → allowed or
// 403. The expectation is computed here from SPEC §4's role definitions and a hand-written
// table of the action each route needs — not from the engine or the route list under test.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { RouteSpec } from '../api/route-spec.js';
import { armRoutes } from '../resources/arm-routes.js';
import { ArmTestApp } from '../resources/testing/arm-test-app.js';
import { LINUX_SECURITY_INITIATIVE, LINUX_SSH_KEYS_POLICY } from '../policy/index.js';
import { RoleDefinitionStore } from './role-definition-store.js';

/** SPEC §4, written out again on purpose. */
const ROLES: Record<string, { id: string; actions: string[]; notActions: string[] }> = {
  Owner: { id: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635', actions: ['*'], notActions: [] },
  Contributor: {
    id: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
    actions: ['*'],
    notActions: [
      'Microsoft.Authorization/*/Write',
      'Microsoft.Authorization/*/Delete',
      'Microsoft.Authorization/elevateAccess/Action',
    ],
  },
  Reader: { id: 'acdd72a7-3385-48ef-bd42-f606fba81ae7', actions: ['*/read'], notActions: [] },
  'User Access Administrator': {
    id: '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9',
    actions: ['*/read', 'Microsoft.Authorization/*'],
    notActions: [],
  },
  'Azure Connected Machine Onboarding': {
    id: 'b64e21ea-ac4e-4cdf-9dc9-5b892992bee7',
    actions: [
      'Microsoft.HybridCompute/machines/read',
      'Microsoft.HybridCompute/machines/write',
      'Microsoft.HybridCompute/privateLinkScopes/read',
      'Microsoft.GuestConfiguration/guestConfigurationAssignments/read',
    ],
    notActions: [],
  },
  'Azure Connected Machine Resource Administrator': {
    id: 'cd570a14-e51a-42ad-bac8-bafd67325302',
    actions: [
      'Microsoft.HybridCompute/machines/*',
      'Microsoft.HybridCompute/machines/extensions/*',
      'Microsoft.HybridCompute/machines/UpgradeExtensions/action',
      'Microsoft.HybridCompute/privateLinkScopes/*',
      'Microsoft.HybridCompute/locations/*',
      'Microsoft.HybridCompute/*/read',
      'Microsoft.Resources/deployments/*',
    ],
    notActions: [],
  },
};

function matches(pattern: string, action: string): boolean {
  const regex = pattern
    .split('*')
    .map((piece) => piece.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${regex}$`, 'i').test(action);
}

function roleAllows(role: string, action: string): boolean {
  const definition = ROLES[role];
  if (definition === undefined) throw new Error(role);
  return (
    definition.actions.some((p) => matches(p, action)) &&
    !definition.notActions.some((p) => matches(p, action))
  );
}

/** The action each route needs, from docs/api.md; 'authenticated' answers about the caller. */
const REQUIRED: { method: string; url: RegExp; action: string }[] = [
  { method: 'GET', url: /^\/subscriptions$/, action: 'authenticated' },
  {
    method: 'GET',
    url: /^\/subscriptions\/:subscriptionId$/,
    action: 'Microsoft.Resources/subscriptions/read',
  },
  {
    method: 'HEAD',
    url: /\/resourcegroups\/:resourceGroupName$/,
    action: 'Microsoft.Resources/subscriptions/resourceGroups/read',
  },
  {
    method: 'GET',
    url: /^\/subscriptions\/:subscriptionId\/resources$/,
    action: 'Microsoft.Resources/subscriptions/resources/read',
  },
  {
    method: 'GET',
    url: /\/resourceGroups\/:resourceGroupName\/resources$/,
    action: 'Microsoft.Resources/subscriptions/resourceGroups/resources/read',
  },
  {
    method: 'GET',
    url: /^\/subscriptions\/:subscriptionId\/providers(\/:resourceProviderNamespace)?$/,
    action: 'Microsoft.Resources/subscriptions/providers/read',
  },
  {
    method: 'POST',
    url: /^\/subscriptions\/:subscriptionId\/providers\/:resourceProviderNamespace\/register$/,
    action: 'Microsoft.Resources/subscriptions/providers/register/action',
  },
  {
    method: 'GET',
    url: /\/resourcegroups(\/:resourceGroupName)?$/,
    action: 'Microsoft.Resources/subscriptions/resourceGroups/read',
  },
  {
    method: 'PUT',
    url: /\/resourcegroups\/:resourceGroupName$/,
    action: 'Microsoft.Resources/subscriptions/resourceGroups/write',
  },
  {
    method: 'DELETE',
    url: /\/resourcegroups\/:resourceGroupName$/,
    action: 'Microsoft.Resources/subscriptions/resourceGroups/delete',
  },
  {
    method: 'GET',
    url: /\/Microsoft\.HybridCompute\/machines(\/:machineName)?$/,
    action: 'Microsoft.HybridCompute/machines/read',
  },
  {
    method: 'PUT',
    url: /\/Microsoft\.HybridCompute\/machines\/:machineName$/,
    action: 'Microsoft.HybridCompute/machines/write',
  },
  {
    method: 'PATCH',
    url: /\/Microsoft\.HybridCompute\/machines\/:machineName$/,
    action: 'Microsoft.HybridCompute/machines/write',
  },
  {
    method: 'DELETE',
    url: /\/Microsoft\.HybridCompute\/machines\/:machineName$/,
    action: 'Microsoft.HybridCompute/machines/delete',
  },
  {
    method: 'GET',
    url: /\/roleAssignments(\/:roleAssignmentName)?$/,
    action: 'Microsoft.Authorization/roleAssignments/read',
  },
  {
    method: 'PUT',
    url: /\/roleAssignments\/:roleAssignmentName$/,
    action: 'Microsoft.Authorization/roleAssignments/write',
  },
  {
    method: 'DELETE',
    url: /\/roleAssignments\/:roleAssignmentName$/,
    action: 'Microsoft.Authorization/roleAssignments/delete',
  },
  {
    method: 'GET',
    url: /\/roleDefinitions(\/:roleDefinitionId)?$/,
    action: 'Microsoft.Authorization/roleDefinitions/read',
  },
  {
    method: 'PUT',
    url: /\/roleDefinitions\/:roleDefinitionId$/,
    action: 'Microsoft.Authorization/roleDefinitions/write',
  },
  {
    method: 'DELETE',
    url: /\/roleDefinitions\/:roleDefinitionId$/,
    action: 'Microsoft.Authorization/roleDefinitions/delete',
  },
  { method: 'GET', url: /\/Microsoft\.Authorization\/permissions$/, action: 'authenticated' },
  {
    method: 'GET',
    url: /^\/providers\/Microsoft\.Authorization\/policy(Set)?Definitions(\/:name)?$/,
    action: 'authenticated',
  },
  ...(['Definitions', 'SetDefinitions', 'Assignments', 'Exemptions'] as const).flatMap((kind) =>
    (['read', 'write', 'delete'] as const).map((verb) => ({
      method: { read: 'GET', write: 'PUT', delete: 'DELETE' }[verb],
      url: new RegExp(
        `^/subscriptions/.*/Microsoft\\.Authorization/policy${kind}${verb === 'read' ? '(/:name)?' : '/:name'}$`,
      ),
      action: `Microsoft.Authorization/policy${kind}/${verb}`,
    })),
  ),
  {
    method: 'GET',
    url: /\/Tether\.Authorization\/access$/,
    action: 'Microsoft.Authorization/roleAssignments/read',
  },
  {
    method: 'GET',
    url: /\/Tether\.Authorization\/access\/:principalId$/,
    action: 'Microsoft.Authorization/roleAssignments/read',
  },
  {
    method: 'GET',
    url: /\/Tether\.Authorization\/rootAccess$/,
    action: 'Microsoft.Authorization/roleAssignments/read',
  },
  {
    method: 'GET',
    url: /\/eventtypes\/management\/values$/,
    action: 'Microsoft.Insights/eventtypes/values/read',
  },
  {
    method: 'PUT',
    url: /^\/providers\/Tether\.Extensions\/publishers\/.*\/versions\/:version$/,
    action: 'Tether.Extensions/packages/write',
  },
  { method: 'GET', url: /^\/providers\/Tether\.Extensions\//, action: 'authenticated' },
  {
    method: 'POST',
    url: /^\/providers\/Tether\.Agent\/packages$/,
    action: 'Tether.Agent/packages/write',
  },
  { method: 'GET', url: /^\/providers\/Tether\.Agent\//, action: 'authenticated' },
  {
    method: 'POST',
    url: /\/agentUpgradeReport$/,
    action: 'Microsoft.HybridCompute/machines/agentUpgradeReport/action',
  },
  {
    method: 'GET',
    url: /\/extensions(\/:extensionName)?$/,
    action: 'Microsoft.HybridCompute/machines/extensions/read',
  },
  {
    method: 'PUT',
    url: /\/extensions\/:extensionName$/,
    action: 'Microsoft.HybridCompute/machines/extensions/write',
  },
  {
    method: 'PATCH',
    url: /\/extensions\/:extensionName$/,
    action: 'Microsoft.HybridCompute/machines/extensions/write',
  },
  {
    method: 'DELETE',
    url: /\/extensions\/:extensionName$/,
    action: 'Microsoft.HybridCompute/machines/extensions/delete',
  },
  {
    method: 'POST',
    url: /\/upgradeExtensions$/,
    action: 'Microsoft.HybridCompute/machines/upgradeExtensions/action',
  },
  {
    method: 'GET',
    url: /\/operation(Statuses|Results)\/:operationId$/,
    action: 'Microsoft.HybridCompute/machines/extensions/read',
  },
  {
    method: 'GET',
    url: /\/extensionGoalState$/,
    action: 'Microsoft.HybridCompute/machines/extensionGoalState/read',
  },
  {
    method: 'POST',
    url: /\/extensionStatus$/,
    action: 'Microsoft.HybridCompute/machines/extensionStatus/action',
  },
  {
    method: 'GET',
    url: /\/Microsoft\.Insights\/metrics$/,
    action: 'Microsoft.Insights/metrics/read',
  },
  {
    method: 'POST',
    url: /\/Microsoft\.Insights\/metrics$/,
    action: 'Microsoft.Insights/metrics/write',
  },
  {
    method: 'GET',
    url: /\/guestConfigurationAssignments(\/:assignmentName(\/reports(\/:reportId)?)?)?$/,
    action: 'Microsoft.GuestConfiguration/guestConfigurationAssignments/read',
  },
  {
    method: 'PUT',
    url: /\/guestConfigurationAssignments\/:assignmentName$/,
    action: 'Microsoft.GuestConfiguration/guestConfigurationAssignments/write',
  },
  {
    method: 'DELETE',
    url: /\/guestConfigurationAssignments\/:assignmentName$/,
    action: 'Microsoft.GuestConfiguration/guestConfigurationAssignments/delete',
  },
  {
    method: 'GET',
    url: /\/guestConfigurationGoalState$/,
    action: 'Microsoft.HybridCompute/machines/guestConfigurationGoalState/read',
  },
  {
    method: 'POST',
    url: /\/guestConfigurationReports$/,
    action: 'Microsoft.HybridCompute/machines/guestConfigurationReports/action',
  },
  {
    method: 'POST',
    url: /\/policyStates\/latest\/queryResults$/,
    action: 'Microsoft.PolicyInsights/policyStates/queryResults/read',
  },
  {
    method: 'POST',
    url: /\/policyStates\/latest\/summarize$/,
    action: 'Microsoft.PolicyInsights/policyStates/summarize/read',
  },
  {
    method: 'POST',
    url: /\/policyStates\/latest\/triggerEvaluation$/,
    action: 'Microsoft.PolicyInsights/policyStates/triggerEvaluation/action',
  },
  {
    method: 'GET',
    url: /\/asyncOperationResults\/:asyncOperationId$/,
    action: 'Microsoft.PolicyInsights/asyncOperationResults/read',
  },
];

/** Answer as 'authenticated', then demand their action on the extension the lookup finds. */
const DEMANDED_AFTER_LOOKUP = /\/operation(Statuses|Results)\/:operationId$/;

function requiredAction(route: RouteSpec): string {
  const found = REQUIRED.filter((r) => r.method === route.method && r.url.test(route.url));
  assert.equal(
    found.length,
    1,
    `${route.method} ${route.url} must have exactly one entry in the matrix table`,
  );
  return found[0]?.action ?? '';
}

type Placement = 'resource' | 'resourceGroup' | 'subscription' | 'otherGroup' | 'none';
type Level = 'resource' | 'resourceGroup' | 'subscription' | 'root';
const PLACEMENTS: Placement[] = ['resource', 'resourceGroup', 'subscription', 'otherGroup', 'none'];
const COVERS: Record<Placement, Level[]> = {
  resource: ['resource'],
  resourceGroup: ['resource', 'resourceGroup'],
  subscription: ['resource', 'resourceGroup', 'subscription'],
  otherGroup: [],
  none: [],
};

function levelOf(url: string): Level {
  if (/:(machineName|resourceName|childName|operationId)\b/.test(url)) return 'resource';
  if (url.includes(':resourceGroupName')) return 'resourceGroup';
  if (url.includes(':subscriptionId')) return 'subscription';
  return 'root';
}

interface World {
  sub: string;
  group: string;
  machine: string;
  machineName: string;
  n: number;
}

void describe('route authorization matrix', () => {
  let t: ArmTestApp;
  let sub: string;
  let otherGroup: string;
  let routes: RouteSpec[];
  let counter = 0;
  let shared: World;
  /** Sets up the policy resources that reads and deletes find. */
  let policyAdmin: string;

  before(async () => {
    t = await ArmTestApp.start({ fast: true });
    sub = await t.addSubscription();
    otherGroup = await t.addResourceGroup(sub, 'other');
    routes = armRoutes(t.services);
    policyAdmin = await t.addPrincipal();
    await t.assign(policyAdmin, ROLES['Owner']?.id ?? '', `/subscriptions/${sub}`);
    shared = await world();
    // The package the repository's read routes name (see fill).
    await t.db
      .insertInto('extension_packages')
      .values({
        id: 'contoso/widget/1.0',
        publisher: 'Contoso',
        type: 'Widget',
        version: '1.0',
        sha256: '0'.repeat(64),
        size: 4,
        signature: 'unchecked',
        content: Buffer.from('PK\x03\x04', 'latin1').toString('base64'),
        published_at: new Date(t.clock.now()).toISOString(),
        published_by: 'test',
      })
      .execute();
    // The agent package the agent package read routes name.
    await t.db
      .insertInto('agent_packages')
      .values({
        version: '1.0',
        sha256: '0'.repeat(64),
        signature: '',
        size: 4,
        content: Buffer.from('!<arch>\n', 'latin1').toString('base64'),
        published_at: new Date(t.clock.now()).toISOString(),
        published_by: 'test',
      })
      .execute();
  });
  after(() => t.close());

  void it('every route declares an action, or answers only about the caller', () => {
    const anonymousOrPublic = routes.filter((r) => r.access.kind === 'public');
    assert.deepEqual(anonymousOrPublic, [], 'no ARM route is public');
    for (const route of routes) {
      const expected = requiredAction(route);
      if (route.access.kind === 'action') {
        assert.equal(route.access.action, expected, `${route.method} ${route.url}`);
      } else if (!DEMANDED_AFTER_LOOKUP.test(route.url)) {
        assert.equal(expected, 'authenticated', `${route.method} ${route.url} declares no action`);
      }
      assert.ok(
        t.app.hasRoute({ method: route.method, url: route.url }),
        `${route.method} ${route.url} is served`,
      );
    }
  });

  /** A fresh group and machine per case, so that deletes in one case leave others intact. */
  async function world(): Promise<World> {
    const n = ++counter;
    const machineName = `m-${n}`;
    const group = await t.addResourceGroup(sub, `rg-${n}`);
    const machine = await t.addMachine(sub, `rg-${n}`, machineName);
    return { sub, group, machine, machineName, n };
  }

  function fill(url: string, w: World, extra: Record<string, string>): string {
    const values: Record<string, string> = {
      subscriptionId: w.sub,
      resourceGroupName: `rg-${w.n}`,
      machineName: w.machineName,
      resourceProvider: 'Microsoft.HybridCompute',
      resourceProviderNamespace: 'Microsoft.HybridCompute',
      resourceType: 'machines',
      resourceName: w.machineName,
      childType: 'extensions',
      childName: 'ama',
      publisher: 'Contoso',
      type: 'Widget',
      version: '1.0',
      ...extra,
    };
    return url.replace(/:(\w+)/g, (_, name: string) => values[name] ?? `:${name}`);
  }

  /** The concrete request for a route in a world: a request that succeeds when allowed. */
  async function requestFor(
    route: RouteSpec,
    w: World,
    overwrite: boolean,
  ): Promise<{ url: string; body?: unknown; scope: string }> {
    const extra: Record<string, string> = {};
    const scopeUrl = fill(
      route.url.replace(
        /\/providers\/(Microsoft|Tether)\.(Authorization|Insights|PolicyInsights)\/.*$/,
        '',
      ),
      w,
      {},
    );
    const scope = scopeUrl === '' ? '/' : scopeUrl.toLowerCase();
    let body: unknown;
    if (
      /\/(extensions|extensionStatus|upgradeExtensions|extensionGoalState)|:operationId/.test(
        route.url,
      )
    ) {
      await extensionFor(route, w, extra);
    }
    if (route.url.includes('/:assignmentName')) {
      extra['assignmentName'] = 'Widget';
      if (route.method === 'GET') extra['reportId'] = await gcAssignmentFor(w);
    }
    if (route.url.endsWith(':assignmentName') && route.method === 'PUT') {
      body = { properties: { guestConfiguration: { name: 'Widget', version: '1.0' } } };
    } else if (route.url.endsWith(':asyncOperationId')) {
      extra['asyncOperationId'] = randomUUID();
    } else if (route.url.endsWith('/guestConfigurationReports')) {
      body = { reports: [] };
    } else if (route.url.endsWith(':extensionName') && route.method === 'PUT') {
      body = {
        location: 'westeurope',
        properties: { publisher: 'Contoso', type: 'Widget', typeHandlerVersion: '1.0' },
      };
    } else if (route.url.endsWith('/upgradeExtensions')) {
      body = { extensionTargets: { 'Contoso.Widget': { targetVersion: '1.0' } } };
    } else if (route.url.endsWith('/Microsoft.Insights/metrics') && route.method === 'POST') {
      body = { samples: [] };
    } else if (route.url.endsWith('/agentUpgradeReport')) {
      body = {
        desiredVersion: '1.0',
        correlationId: randomUUID(),
        status: 'Success',
        message: 'upgraded',
        timestamp: new Date(t.clock.now()).toISOString(),
      };
    } else if (route.url.endsWith('/extensionStatus')) {
      body = { name: 'ama', result: 'Succeeded' };
    } else if (route.url.endsWith(':machineName') && route.method === 'PUT' && !overwrite) {
      extra['machineName'] = `new-${w.n}`;
      body = { location: 'westeurope' };
    } else if (route.url.endsWith(':machineName') && route.method === 'PUT') {
      body = { location: 'westeurope' };
    } else if (route.method === 'PATCH') {
      body = { tags: { touched: 'yes' } };
    } else if (route.url.endsWith(':resourceGroupName') && route.method === 'PUT') {
      body = { location: 'westeurope' };
    } else if (route.url.endsWith(':roleAssignmentName')) {
      extra['roleAssignmentName'] =
        route.method === 'PUT'
          ? randomUUID()
          : await t.assign(await t.addPrincipal(), ROLES['Reader']?.id ?? '', scope);
      if (route.method === 'PUT') {
        const prefix = scope === '/' ? '' : `/subscriptions/${w.sub}`;
        body = {
          properties: {
            roleDefinitionId: `${prefix}/providers/Microsoft.Authorization/roleDefinitions/${ROLES['Reader']?.id ?? ''}`,
            principalId: await t.addPrincipal(),
          },
        };
      }
    } else if (route.url.endsWith('/access/:principalId')) {
      extra['principalId'] = await t.addPrincipal();
    } else if (/\/policy(Set)?Definitions\/:name$/.test(route.url)) {
      const set = route.url.includes('policySetDefinitions');
      extra['name'] = route.method === 'GET' ? LINUX_SSH_KEYS_POLICY : `custom-${w.n}`;
      if (set && route.method === 'GET') extra['name'] = LINUX_SECURITY_INITIATIVE;
      const properties = set
        ? {
            policyDefinitions: [
              {
                policyDefinitionId: `/providers/Microsoft.Authorization/policyDefinitions/${LINUX_SSH_KEYS_POLICY}`,
              },
            ],
          }
        : { policyRule: { if: { field: 'type', equals: 'x' }, then: { effect: 'Audit' } } };
      if (route.method !== 'GET') body = { properties };
      if (route.method === 'DELETE') {
        const put = await t.inject('PUT', `${fill(route.url, w, extra)}?api-version=2024-05-01`, {
          as: policyAdmin,
          body,
        });
        assert.equal(put.status, 201, JSON.stringify(put.body));
        body = undefined;
      }
    } else if (/\/policy(Assignments|Exemptions)\/:name$/.test(route.url)) {
      extra['name'] = `p-${w.n}`;
      const assignmentBody = {
        properties: {
          policyDefinitionId: `/providers/Microsoft.Authorization/policyDefinitions/${LINUX_SSH_KEYS_POLICY}`,
        },
      };
      const exemptions = route.url.includes('policyExemptions');
      const assignmentUrl = `${scope}/providers/Microsoft.Authorization/policyAssignments/a-${w.n}?api-version=2024-05-01`;
      if (exemptions || route.method !== 'PUT') {
        const made = await t.inject(
          'PUT',
          exemptions ? assignmentUrl : `${fill(route.url, w, extra)}?api-version=2024-05-01`,
          { as: policyAdmin, body: assignmentBody },
        );
        assert.ok(made.status === 200 || made.status === 201, JSON.stringify(made.body));
      }
      const exemptionBody = {
        properties: {
          policyAssignmentId: assignmentUrl.split('?')[0],
          exemptionCategory: 'Waiver',
        },
      };
      if (exemptions && route.method !== 'PUT') {
        const made = await t.inject(
          'PUT',
          `${fill(route.url, w, extra)}?api-version=2022-07-01-preview`,
          { as: policyAdmin, body: exemptionBody },
        );
        assert.ok(made.status === 200 || made.status === 201, JSON.stringify(made.body));
      }
      if (route.method === 'PUT') body = exemptions ? exemptionBody : assignmentBody;
    } else if (route.url.endsWith(':roleDefinitionId')) {
      if (route.method === 'GET') extra['roleDefinitionId'] = ROLES['Reader']?.id ?? '';
      else extra['roleDefinitionId'] = randomUUID();
      const properties = {
        roleName: `custom-${w.n}`,
        description: '',
        permissions: [{ actions: ['Microsoft.HybridCompute/machines/read'] }],
        assignableScopes: [scope],
      };
      if (route.method === 'PUT') body = { properties };
      if (route.method === 'DELETE') {
        const now = new Date(t.clock.now()).toISOString();
        await new RoleDefinitionStore(t.db, t.authorizer).put(
          {
            name: extra['roleDefinitionId'],
            role_name: properties.roleName,
            description: '',
            permissions: JSON.stringify([
              {
                actions: properties.permissions[0]?.actions,
                notActions: [],
                dataActions: [],
                notDataActions: [],
              },
            ]),
            assignable_scopes: JSON.stringify([scope]),
            created_at: now,
            updated_at: now,
          },
          undefined,
        );
      }
    }
    let url = fill(route.url, w, extra);
    const version = route.apiVersions?.at(-1) ?? '';
    url += `?api-version=${version}`;
    if (route.url.endsWith('/values'))
      url += `&$filter=${encodeURIComponent("eventTimestamp ge '2020-01-01T00:00:00Z'")}`;
    return { url, scope, ...(body === undefined ? {} : { body }) };
  }

  /** The extension `ama` of the world's machine, and an operation on it for status routes. */
  async function extensionFor(
    route: RouteSpec,
    w: World,
    extra: Record<string, string>,
  ): Promise<void> {
    const now = new Date(t.clock.now()).toISOString();
    const id = `${w.machine}/extensions/ama`;
    await t.db
      .insertInto('machine_extensions')
      .values({
        id,
        machine_id: w.machine,
        name: 'ama',
        location: 'westeurope',
        tags: '{}',
        publisher: 'Contoso',
        type: 'Widget',
        type_handler_version: '1.0',
        resolved_version: '1.0',
        auto_upgrade_minor_version: 1,
        enable_automatic_upgrade: 0,
        force_update_tag: null,
        settings: '{}',
        protected_settings: null,
        protected_key_id: null,
        sequence: 1,
        provisioning_state: 'Succeeded',
        instance_view: null,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
    extra['extensionName'] = 'ama';
    if (!route.url.endsWith(':operationId')) return;
    const operationId = randomUUID();
    await t.db
      .insertInto('extension_operations')
      .values({
        id: operationId,
        subscription_id: w.sub,
        machine_id: w.machine,
        extension_id: id,
        kind: 'install',
        sequence: 1,
        status: 'Succeeded',
        error: null,
        started_at: now,
        deadline_at: now,
        delivered_at: null,
        ended_at: now,
        created_by: 'test',
      })
      .execute();
    extra['operationId'] = operationId;
    extra['location'] = 'westeurope';
  }

  /** The guest configuration assignment `Widget` of the world's machine with one report. */
  async function gcAssignmentFor(w: World): Promise<string> {
    const now = new Date(t.clock.now()).toISOString();
    const id = `${w.machine}/providers/microsoft.guestconfiguration/guestconfigurationassignments/widget`;
    const reportId = '0b8c2a4e-7d7e-4a57-9d0f-6b0d4f3c1a21';
    await t.db
      .insertInto('guest_configuration_assignments')
      .values({
        id,
        machine_id: w.machine,
        subscription_id: w.sub,
        resource_group: `rg-${w.n}`,
        name: 'Widget',
        configuration_name: 'Widget',
        configuration_version: '1.0',
        publisher: 'Contoso',
        content_uri: 'https://tether.test/package',
        content_hash: '0'.repeat(64),
        assignment_type: 'Audit',
        parameters: '[]',
        frequency_minutes: 15,
        context: '',
        policy_assignment_ids: '[]',
        compliance_status: 'Compliant',
        last_checked: now,
        latest_report_id: reportId,
        provisioning_state: 'Succeeded',
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
    await t.db
      .insertInto('guest_configuration_reports')
      .values({
        assignment_id: id,
        report_id: reportId,
        machine_id: w.machine,
        start_time: now,
        end_time: now,
        compliance_status: 'Compliant',
        operation_type: 'Initial',
        resources: '[]',
        received_at: now,
      })
      .onConflict((oc) => oc.columns(['assignment_id', 'report_id']).doNothing())
      .execute();
    return reportId;
  }

  /** `machine` is the machine the request is about (or, above machines, one in its group). */
  function placementScope(placement: Placement, w: World, machine: string): string | undefined {
    switch (placement) {
      case 'resource':
        return machine;
      case 'resourceGroup':
        return w.group;
      case 'subscription':
        return `/subscriptions/${w.sub}`;
      case 'otherGroup':
        return otherGroup;
      case 'none':
        return undefined;
    }
  }

  void it('allows exactly what the role definitions grant, where they are assigned', async () => {
    const cases = routes.flatMap((route) => {
      const overwrites =
        route.method === 'PUT' && route.url.endsWith(':machineName') ? [false, true] : [false];
      return overwrites.map((overwrite) => ({ route, overwrite }));
    });
    let checked = 0;
    const failures: string[] = [];
    for (const { route, overwrite } of cases) {
      const action = requiredAction(route);
      const level = levelOf(route.url);
      for (const role of Object.keys(ROLES)) {
        for (const placement of PLACEMENTS) {
          // Reads change nothing, so they share one world; every write gets its own.
          const w = route.method === 'GET' ? shared : await world();
          const request = await requestFor(route, w, overwrite);
          const principal = await t.addPrincipal();
          const machine = request.url.includes(`/machines/new-${w.n}`)
            ? `${w.group}/providers/microsoft.hybridcompute/machines/new-${w.n}`
            : w.machine;
          const at = placementScope(placement, w, machine);
          if (at !== undefined) await t.assign(principal, ROLES[role]?.id ?? '', at);
          const needs = overwrite ? [action, 'Microsoft.HybridCompute/machines/delete'] : [action];
          const expected =
            action === 'authenticated' ||
            (COVERS[placement].includes(level) && needs.every((a) => roleAllows(role, a)));
          const res = await t.inject(route.method, request.url, {
            as: principal,
            ...(request.body === undefined ? {} : { body: request.body }),
          });
          checked++;
          const label = `${route.method} ${route.url}${overwrite ? ' (overwrite)' : ''} as ${role} at ${placement}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`;
          if (expected) {
            // Allowed requests were built to succeed; a child-resource scope is refused as
            // a grant target (400 InvalidScope) after the access check has passed.
            const childScopeWrite = /:childName/.test(route.url) && route.method === 'PUT';
            const ok = childScopeWrite ? res.status === 400 : res.status >= 200 && res.status < 300;
            if (!ok) failures.push(`expected success: ${label}`);
          } else if (
            res.status !== 403 ||
            // A HEAD answer has no body to carry the code.
            (route.method !== 'HEAD' &&
              (res.body['error'] as { code?: string } | undefined)?.code !== 'AuthorizationFailed')
          ) {
            failures.push(`expected 403 AuthorizationFailed: ${label}`);
          }
        }
      }
    }
    assert.deepEqual(failures, []);
    assert.equal(checked, cases.length * Object.keys(ROLES).length * PLACEMENTS.length);
  });
});
