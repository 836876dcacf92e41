// The real server process driven by the unmodified Azure SDKs: @azure/identity's
// ClientSecretCredential for tokens, @azure/arm-authorization for role assignments and
// definitions, @azure/arm-hybridcompute for machines, and a plain HTTPS PUT to onboard
// machines as an Onboarding principal would. Everything must survive a restart.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { runNodeClient, startControlPlane, type ControlPlane } from '../harness/index.js';
import {
  armInput,
  createPrincipalWithSecret,
  createResourceGroup,
  type ClientAnswer,
  type Principal,
} from './arm-fixtures.js';

const ONBOARDING = 'b64e21ea-ac4e-4cdf-9dc9-5b892992bee7';
const BUILT_IN = {
  Owner: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
  Contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
  Reader: 'acdd72a7-3385-48ef-bd42-f606fba81ae7',
  'User Access Administrator': '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9',
  'Azure Connected Machine Onboarding': ONBOARDING,
  'Azure Connected Machine Resource Administrator': 'cd570a14-e51a-42ad-bac8-bafd67325302',
};

interface Assignment {
  id: string;
  name: string;
  type: string;
  scope: string;
  roleDefinitionId: string;
  principalId: string;
  principalType: string;
}
interface Definition {
  id: string;
  name: string;
  roleName: string;
  roleType: string;
}
interface Machine {
  id: string;
  name: string;
  type: string;
  location: string;
  properties?: { osName?: string; vmId?: string; status?: string };
}
interface PutAnswer {
  status: number;
  body: { error?: { code: string; message: string } } | null;
}

function ok<T>(answer: ClientAnswer<T>): T {
  assert.equal(answer.ok, true, JSON.stringify(answer.error));
  return answer.result as T;
}

void describe('Azure SDKs against the real server', () => {
  let plane: ControlPlane;
  let onboarder: Principal;
  let group: string;
  let assignmentName: string;

  const client = <T>(script: string, input: string): Promise<ClientAnswer<T>> =>
    runNodeClient<ClientAnswer<T>>(script, [input], plane.clientEnv());
  const onboard = (names: string[]): Promise<ClientAnswer<PutAnswer[]>> =>
    client<PutAnswer[]>(
      'arm-onboard-machine',
      armInput(
        plane,
        'put',
        {
          machines: names.map((name) => ({
            resourceGroup: 'fleet',
            name,
            body: {
              location: 'westeurope',
              properties: { osName: 'ubuntu', osType: 'linux', agentVersion: '1.40' },
            },
          })),
        },
        onboarder,
      ),
    );

  before(async () => {
    plane = await startControlPlane();
    await createResourceGroup(plane, 'fleet');
    group = `/subscriptions/${plane.subscriptionId}/resourceGroups/fleet`;
    onboarder = await createPrincipalWithSecret(plane, 'bulk-onboarding');
  });
  after(() => plane.stop());

  void it('lists the built-in role definitions with their Azure ids', async () => {
    const all = ok(
      await client<Definition[]>(
        'arm-role-assignments',
        armInput(plane, 'listDefinitions', { scope: `/subscriptions/${plane.subscriptionId}` }),
      ),
    );
    for (const [roleName, id] of Object.entries(BUILT_IN)) {
      const found = all.find((d) => d.name === id);
      assert.equal(found?.roleName, roleName);
      assert.equal(found?.roleType, 'BuiltInRole');
    }
    const reader = ok(
      await client<Definition[]>(
        'arm-role-assignments',
        armInput(plane, 'listDefinitions', { scope: group, filter: "roleName eq 'Reader'" }),
      ),
    );
    assert.deepEqual(
      reader.map((d) => d.name),
      [BUILT_IN.Reader],
    );
    const byId = ok(
      await client<Definition>(
        'arm-role-assignments',
        armInput(plane, 'getDefinition', {
          id: `/providers/Microsoft.Authorization/roleDefinitions/${ONBOARDING}`,
        }),
      ),
    );
    assert.equal(byId.roleName, 'Azure Connected Machine Onboarding');
  });

  void it('creates a role assignment with the SDK, which lets the onboarding principal create machines', async () => {
    assignmentName = randomUUID();
    const created = ok(
      await client<Assignment>(
        'arm-role-assignments',
        armInput(plane, 'create', {
          scope: group,
          name: assignmentName,
          roleDefinitionId: `/subscriptions/${plane.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${ONBOARDING}`,
          principalId: onboarder.id,
          principalType: 'ServicePrincipal',
        }),
      ),
    );
    assert.equal(created.name, assignmentName);
    assert.equal(created.type, 'Microsoft.Authorization/roleAssignments');
    assert.equal(created.principalId, onboarder.id);
    assert.equal(created.scope.toLowerCase(), group.toLowerCase());

    const puts = ok(await onboard(['web-01', 'web-02', 'web-03']));
    assert.deepEqual(
      puts.map((p) => p.status),
      [201, 201, 201],
      JSON.stringify(puts),
    );
  });

  void it('lists and gets machines with @azure/arm-hybridcompute (api-version 2021-05-20)', async () => {
    const inGroup = ok(
      await client<Machine[]>(
        'arm-machines',
        armInput(plane, 'listByResourceGroup', { resourceGroup: 'fleet' }, onboarder),
      ),
    );
    assert.deepEqual(inGroup.map((m) => m.name).sort(), ['web-01', 'web-02', 'web-03']);
    const one = ok(
      await client<Machine>(
        'arm-machines',
        armInput(plane, 'get', { resourceGroup: 'fleet', name: 'web-02' }, onboarder),
      ),
    );
    assert.equal(one.id, `${group}/providers/Microsoft.HybridCompute/machines/web-02`);
    assert.equal(one.type, 'Microsoft.HybridCompute/machines');
    assert.equal(one.location, 'westeurope');
    assert.equal(one.properties?.osName, 'ubuntu');
    assert.match(one.properties?.vmId ?? '', /^[0-9a-f-]{36}$/);
    const inSubscription = ok(
      await client<Machine[]>('arm-machines', armInput(plane, 'listBySubscription')),
    );
    assert.equal(inSubscription.length, 3);
    const missing = await client<Machine>(
      'arm-machines',
      armInput(plane, 'get', { resourceGroup: 'fleet', name: 'web-99' }),
    );
    assert.equal(missing.error?.statusCode, 404);
    assert.equal(missing.error?.code, 'ResourceNotFound');
  });

  void it('refuses the onboarding principal an overwrite and a delete (S3), naming principal, action and scope', async () => {
    const [overwrite] = ok(await onboard(['web-01']));
    assert.equal(overwrite?.status, 403);
    assert.equal(overwrite?.body?.error?.code, 'AuthorizationFailed');
    assert.match(overwrite?.body?.error?.message ?? '', new RegExp(onboarder.id));
    assert.match(
      overwrite?.body?.error?.message ?? '',
      /Microsoft\.HybridCompute\/machines\/delete/,
    );
    assert.match(overwrite?.body?.error?.message ?? '', /web-01/);
    const deleted = await client<null>(
      'arm-machines',
      armInput(plane, 'delete', { resourceGroup: 'fleet', name: 'web-01' }, onboarder),
    );
    assert.equal(deleted.error?.statusCode, 403);
    assert.equal(deleted.error?.code, 'AuthorizationFailed');
    const denied = await plane.admin.call(
      'GET',
      `/subscriptions/${plane.subscriptionId}/providers/Microsoft.Insights/eventtypes/management/values?api-version=2015-04-01&$filter=${encodeURIComponent(`eventTimestamp ge '2000-01-01T00:00:00Z' and resourceGroupName eq 'fleet'`)}`,
    );
    assert.equal(denied.status, 200);
    const events = denied.body['value'] as {
      caller: string;
      status: { value: string };
      subStatus: { value: string };
      httpRequest: { method: string };
    }[];
    const refused = events.filter(
      (e) => e.caller === onboarder.appId && e.status.value === 'Failed',
    );
    assert.deepEqual(refused.map((e) => e.httpRequest.method).sort(), ['DELETE', 'PUT']);
  });

  void it('keeps principals, assignments and machines across a restart', async () => {
    await plane.restart();
    const listed = ok(
      await client<Assignment[]>(
        'arm-role-assignments',
        armInput(plane, 'list', { scope: group, filter: `principalId eq '${onboarder.id}'` }),
      ),
    );
    assert.deepEqual(
      listed.map((a) => a.name),
      [assignmentName],
    );
    const machines = ok(
      await client<Machine[]>(
        'arm-machines',
        armInput(plane, 'listByResourceGroup', { resourceGroup: 'fleet' }, onboarder),
      ),
    );
    assert.equal(machines.length, 3);
    const [created] = ok(await onboard(['web-04']));
    assert.equal(
      created?.status,
      201,
      'the onboarding principal still signs in and still holds its role',
    );
  });

  void it('deletes the role assignment with the SDK; the access is gone at once', async () => {
    type Deleted = { status: number; deleted: Assignment };
    const deleteInput = armInput(plane, 'delete', { scope: group, name: assignmentName });
    const first = ok(await client<Deleted>('arm-role-assignments', deleteInput));
    assert.equal(first.status, 200);
    assert.equal(first.deleted.name, assignmentName);
    const again = ok(await client<Deleted>('arm-role-assignments', deleteInput));
    assert.equal(again.status, 204);
    const [refused] = ok(await onboard(['web-05']));
    assert.equal(refused?.status, 403);
    const listed = ok(
      await client<Assignment[]>('arm-role-assignments', armInput(plane, 'list', { scope: group })),
    );
    assert.ok(!listed.some((a) => a.name === assignmentName));
  });
});
