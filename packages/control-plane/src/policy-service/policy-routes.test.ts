// The policy routes as an operator meets them: built-ins, custom definitions and sets,
// assignments with notScopes and filters, exemptions with expiry, refusals that store
// nothing, and Deny refusing machine and extension writes (logged as refused).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ALLOWED_EXTENSIONS_POLICY,
  LINUX_SECURITY_INITIATIVE,
  LINUX_SSH_KEYS_POLICY,
  machineView,
} from '../policy/index.js';
import {
  OWNER_ROLE_ID,
  READER_ROLE_ID,
  RESOURCE_POLICY_CONTRIBUTOR_ROLE_ID,
} from '../rbac/built-in-roles.js';
import { ArmTestApp, armTestBackends } from '../resources/testing/arm-test-app.js';
import type { PolicyChange } from './policy-changes.js';
import { PolicyService } from './policy-service.js';

const V = 'api-version=2024-05-01';
const VX = 'api-version=2022-07-01-preview';
const AUTH = 'providers/Microsoft.Authorization';

type Body = Record<string, unknown>;
const errorOf = (body: Body): { code: string; target?: string; message: string } =>
  body['error'] as { code: string; target?: string; message: string };
const names = (body: Body): string[] =>
  (body['value'] as { name: string }[]).map((v) => v.name).sort();

for (const backend of armTestBackends()) {
  void describe(`policy routes (${backend.name})`, () => {
    let t: ArmTestApp;
    let sub: string;
    let rg: string;
    let web: string;
    let db01: string;
    let owner: string;
    const changes: PolicyChange[] = [];

    before(async () => {
      t = await ArmTestApp.start({ backend });
      const id = await t.addSubscription();
      sub = `/subscriptions/${id}`;
      rg = await t.addResourceGroup(id, 'rg1');
      web = await t.addMachine(id, 'rg1', 'web01');
      db01 = await t.addMachine(id, 'rg1', 'db01');
      owner = await t.addPrincipal();
      await t.assign(owner, OWNER_ROLE_ID, sub);
      new PolicyService(t.db, t.clock).onChange((c) => changes.push(c));
    });
    after(() => t.close());

    void it('serves built-ins at the root and lists them in the subscription', async () => {
      const builtIn = await t.inject(
        'GET',
        `/${AUTH}/policyDefinitions/${LINUX_SSH_KEYS_POLICY}?${V}`,
        { as: owner },
      );
      assert.equal(builtIn.status, 200);
      const properties = builtIn.body['properties'] as Body;
      assert.equal(properties['policyType'], 'BuiltIn');
      assert.deepEqual((properties['metadata'] as Body)['guestConfiguration'], {
        name: 'LinuxNoPasswordForSSH',
        version: '1.*',
      });
      const list = await t.inject(
        'GET',
        `${sub}/${AUTH}/policyDefinitions?${V}&$filter=${encodeURIComponent("policyType eq 'BuiltIn'")}`,
        { as: owner },
      );
      assert.ok(names(list.body).includes(ALLOWED_EXTENSIONS_POLICY));
      const sets = await t.inject('GET', `${sub}/${AUTH}/policySetDefinitions?${V}`, { as: owner });
      assert.ok(names(sets.body).includes(LINUX_SECURITY_INITIATIVE));
      const change = await t.inject(
        'PUT',
        `${sub}/${AUTH}/policyDefinitions/${LINUX_SSH_KEYS_POLICY}?${V}`,
        {
          as: owner,
          body: {
            properties: {
              policyRule: { if: { field: 'name', equals: 'x' }, then: { effect: 'Audit' } },
            },
          },
        },
      );
      assert.equal(change.status, 400);
    });

    void it('refuses bad policy JSON with the JSON path, and stores nothing', async () => {
      const cases: [unknown, string, string][] = [
        [
          { if: { field: 'Microsoft.Foo/bar', equals: 'x' }, then: { effect: 'Audit' } },
          'InvalidPolicyRule',
          'properties.policyRule.if.field',
        ],
        [
          { if: { field: 'name', equals: 'x' }, then: { effect: 'Explode' } },
          'InvalidPolicyRule',
          'properties.policyRule.then.effect',
        ],
        [
          { if: { field: 'name', matchez: 'x' }, then: { effect: 'Audit' } },
          'InvalidPolicyRule',
          'properties.policyRule.if.matchez',
        ],
        [
          { if: { field: 'name', equals: "[parameters('x')]" }, then: { effect: 'Audit' } },
          'InvalidPolicyRule',
          'properties.policyRule.if.equals',
        ],
      ];
      for (const [policyRule, code, target] of cases) {
        const res = await t.inject('PUT', `${sub}/${AUTH}/policyDefinitions/bad?${V}`, {
          as: owner,
          body: { properties: { policyRule } },
        });
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.equal(errorOf(res.body).code, code);
        assert.equal(errorOf(res.body).target, target);
      }
      const get = await t.inject('GET', `${sub}/${AUTH}/policyDefinitions/bad?${V}`, { as: owner });
      assert.equal(get.status, 404);
      assert.equal(errorOf(get.body).code, 'PolicyDefinitionNotFound');
    });

    void it('assigns the initiative at a resource group with notScopes; lists and filters', async () => {
      const setId = `/${AUTH}/policySetDefinitions/${LINUX_SECURITY_INITIATIVE}`;
      const res = await t.inject('PUT', `${rg}/${AUTH}/policyAssignments/linux?${V}`, {
        as: owner,
        body: {
          properties: {
            displayName: 'Linux baseline',
            policyDefinitionId: setId,
            notScopes: [db01],
          },
        },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal((res.body['properties'] as Body)['scope'], rg);
      assert.deepEqual(changes.at(-1), {
        kind: 'assignment',
        change: 'created',
        id: `${rg}/${AUTH}/policyassignments/linux`.toLowerCase(),
        scope: rg,
      });

      const service = new PolicyService(t.db, t.clock);
      const linux = (id: string): ReturnType<typeof machineView> =>
        machineView({
          id,
          name: 'm',
          location: 'westeurope',
          tags: {},
          properties: { osName: 'Ubuntu', osType: 'linux' },
        });
      const entries = await service.applicablePolicies(linux(web));
      assert.deepEqual(
        entries.map((e) => e.guestConfiguration?.name),
        ['AzureLinuxBaseline', 'LinuxNoPasswordForSSH', 'PasswordPolicy_msid110'],
      );
      assert.deepEqual(await service.applicablePolicies(linux(db01)), []);

      const atSub = await t.inject('GET', `${sub}/${AUTH}/policyAssignments?${V}`, { as: owner });
      assert.deepEqual(names(atSub.body), ['linux']);
      const atScope = await t.inject(
        'GET',
        `${sub}/${AUTH}/policyAssignments?${V}&$filter=atScope()`,
        { as: owner },
      );
      assert.deepEqual(names(atScope.body), []);
      const atMachine = await t.inject(
        'GET',
        `${web}/${AUTH}/policyAssignments?${V}&$filter=atScope()`,
        { as: owner },
      );
      assert.deepEqual(names(atMachine.body), ['linux']);
      const exact = await t.inject(
        'GET',
        `${web}/${AUTH}/policyAssignments?${V}&$filter=atExactScope()`,
        { as: owner },
      );
      assert.deepEqual(names(exact.body), []);
      const byDefinition = await t.inject(
        'GET',
        `${sub}/${AUTH}/policyAssignments?${V}&$filter=${encodeURIComponent(`policyDefinitionId eq '${setId}'`)}`,
        { as: owner },
      );
      assert.deepEqual(names(byDefinition.body), ['linux']);
    });

    void it('refuses unknown definitions and bad parameters, storing nothing', async () => {
      const unknown = await t.inject('PUT', `${rg}/${AUTH}/policyAssignments/ghost?${V}`, {
        as: owner,
        body: {
          properties: {
            policyDefinitionId: `/${AUTH}/policyDefinitions/00000000-0000-0000-0000-000000000000`,
          },
        },
      });
      assert.equal(unknown.status, 400);
      assert.equal(errorOf(unknown.body).code, 'InvalidPolicyDefinitionReference');
      const badEffect = await t.inject('PUT', `${rg}/${AUTH}/policyAssignments/ghost?${V}`, {
        as: owner,
        body: {
          properties: {
            policyDefinitionId: `/${AUTH}/policyDefinitions/${LINUX_SSH_KEYS_POLICY}`,
            parameters: { effect: { value: 'Deny' } },
          },
        },
      });
      assert.equal(badEffect.status, 400);
      assert.equal(errorOf(badEffect.body).code, 'InvalidPolicyParameters');
      assert.equal(errorOf(badEffect.body).target, 'properties.parameters.effect.value');
      const get = await t.inject('GET', `${rg}/${AUTH}/policyAssignments/ghost?${V}`, {
        as: owner,
      });
      assert.equal(get.status, 404);
    });

    void it('exempts one member until a date; excludeExpired() drops it exactly then', async () => {
      const assignmentId = `${rg}/${AUTH}/policyAssignments/linux`;
      const expiresOn = new Date(t.clock.now() + 60_000).toISOString();
      const bad = await t.inject('PUT', `${web}/${AUTH}/policyExemptions/ssh?${VX}`, {
        as: owner,
        body: {
          properties: {
            policyAssignmentId: assignmentId,
            exemptionCategory: 'Waiver',
            policyDefinitionReferenceIds: ['NotAMember'],
          },
        },
      });
      assert.equal(bad.status, 400);
      assert.equal(errorOf(bad.body).code, 'InvalidPolicyDefinitionReference');
      const ghost = await t.inject('PUT', `${web}/${AUTH}/policyExemptions/ssh?${VX}`, {
        as: owner,
        body: {
          properties: {
            policyAssignmentId: `${rg}/${AUTH}/policyAssignments/nope`,
            exemptionCategory: 'Waiver',
          },
        },
      });
      assert.equal(ghost.status, 400);
      assert.equal(errorOf(ghost.body).code, 'InvalidPolicyAssignmentReference');
      const res = await t.inject('PUT', `${web}/${AUTH}/policyExemptions/ssh?${VX}`, {
        as: owner,
        body: {
          properties: {
            policyAssignmentId: assignmentId,
            exemptionCategory: 'Mitigated',
            policyDefinitionReferenceIds: ['LinuxRequireSshKeys'],
            expiresOn,
          },
        },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const list = async (): Promise<string[]> =>
        names(
          (
            await t.inject(
              'GET',
              `${web}/${AUTH}/policyExemptions?${VX}&$filter=excludeExpired()`,
              { as: owner },
            )
          ).body,
        );
      assert.deepEqual(await list(), ['ssh']);
      const view = machineView({
        id: web,
        name: 'web01',
        location: 'westeurope',
        tags: {},
        properties: { osType: 'linux' },
      });
      const service = new PolicyService(t.db, t.clock);
      const exempted = (await service.applicablePolicies(view)).map((e) => e.exemption?.category);
      assert.deepEqual(exempted, [undefined, 'Mitigated', undefined]);
      t.clock.advance(60_000);
      assert.deepEqual(await list(), []);
      assert.deepEqual(
        (await service.applicablePolicies(view)).map((e) => e.exemption),
        [undefined, undefined, undefined],
      );
      const all = await t.inject('GET', `${sub}/${AUTH}/policyExemptions?${VX}`, { as: owner });
      assert.deepEqual(names(all.body), ['ssh']);
    });

    void it('refuses to delete a definition in use, then deletes it once unassigned', async () => {
      const rule = {
        if: { field: 'type', equals: 'Microsoft.HybridCompute/machines' },
        then: { effect: 'Audit' },
      };
      const created = await t.inject(
        'PUT',
        `${sub}/${AUTH}/policyDefinitions/audit-machines?${V}`,
        { as: owner, body: { properties: { displayName: 'Audit machines', policyRule: rule } } },
      );
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal((created.body['properties'] as Body)['policyType'], 'Custom');
      const definitionId = `${sub}/${AUTH}/policyDefinitions/audit-machines`;
      const assigned = await t.inject('PUT', `${sub}/${AUTH}/policyAssignments/audit?${V}`, {
        as: owner,
        body: { properties: { policyDefinitionId: definitionId } },
      });
      assert.equal(assigned.status, 201, JSON.stringify(assigned.body));
      const refused = await t.inject(
        'DELETE',
        `${sub}/${AUTH}/policyDefinitions/audit-machines?${V}`,
        { as: owner },
      );
      assert.equal(refused.status, 400);
      assert.equal(errorOf(refused.body).code, 'InvalidDeletePolicyDefinitionRequest');
      assert.match(errorOf(refused.body).message, /policyAssignments\/audit/);
      assert.equal(
        (await t.inject('DELETE', `${sub}/${AUTH}/policyAssignments/audit?${V}`, { as: owner }))
          .status,
        200,
      );
      assert.equal(
        (
          await t.inject('DELETE', `${sub}/${AUTH}/policyDefinitions/audit-machines?${V}`, {
            as: owner,
          })
        ).status,
        200,
      );
    });

    void it('Deny refuses extension and machine writes, logged as refused; DoNotEnforce does not', async () => {
      const put = (mode: string): Promise<{ status: number; body: Body }> =>
        t.inject('PUT', `${rg}/${AUTH}/policyAssignments/allowed?${V}`, {
          as: owner,
          body: {
            properties: {
              displayName: 'Allowed extensions',
              policyDefinitionId: `/${AUTH}/policyDefinitions/${ALLOWED_EXTENSIONS_POLICY}`,
              enforcementMode: mode,
              parameters: { allowedExtensions: { value: ['AzureMonitorLinuxAgent'] } },
            },
          },
        });
      assert.equal((await put('Default')).status, 201);
      const ext = await t.inject('PUT', `${web}/extensions/script?api-version=2022-12-27`, {
        as: owner,
        body: {
          location: 'westeurope',
          properties: {
            publisher: 'Microsoft.Azure.Extensions',
            type: 'CustomScript',
            typeHandlerVersion: '2.1',
          },
        },
      });
      assert.equal(ext.status, 403, JSON.stringify(ext.body));
      assert.equal(errorOf(ext.body).code, 'RequestDisallowedByPolicy');
      assert.match(errorOf(ext.body).message, /Allowed extensions/);
      assert.match(errorOf(ext.body).message, /policyAssignments\/allowed/);
      const stored = await t.db
        .selectFrom('machine_extensions')
        .selectAll()
        .where('machine_id', '=', web)
        .execute();
      assert.deepEqual(stored, []);
      const logged = await t.db
        .selectFrom('activity_log')
        .selectAll()
        .where('sub_status', '=', 'RequestDisallowedByPolicy')
        .execute();
      assert.equal(logged.length, 1);
      assert.equal(logged[0]?.status, 'Failed');

      // A machine-level Deny on a tag, to show machine writes are checked too.
      await t.inject('PUT', `${sub}/${AUTH}/policyDefinitions/no-pets?${V}`, {
        as: owner,
        body: {
          properties: {
            policyRule: {
              if: {
                allOf: [
                  { field: 'type', equals: 'Microsoft.HybridCompute/machines' },
                  { field: 'tags.pet', exists: true },
                ],
              },
              then: { effect: 'Deny' },
            },
          },
        },
      });
      const noPets = await t.inject('PUT', `${rg}/${AUTH}/policyAssignments/no-pets?${V}`, {
        as: owner,
        body: { properties: { policyDefinitionId: `${sub}/${AUTH}/policyDefinitions/no-pets` } },
      });
      assert.equal(noPets.status, 201, JSON.stringify(noPets.body));
      const patch = await t.inject('PATCH', `${web}?api-version=2022-12-27`, {
        as: owner,
        body: { tags: { pet: 'cat' } },
      });
      assert.equal(patch.status, 403);
      assert.equal(errorOf(patch.body).code, 'RequestDisallowedByPolicy');
      const fine = await t.inject('PATCH', `${web}?api-version=2022-12-27`, {
        as: owner,
        body: { tags: { cattle: 'yes' } },
      });
      assert.equal(fine.status, 200);
      await t.inject('DELETE', `${rg}/${AUTH}/policyAssignments/no-pets?${V}`, { as: owner });

      assert.equal((await put('DoNotEnforce')).status, 201);
      const allowed = await t.inject('PUT', `${web}/extensions/script?api-version=2022-12-27`, {
        as: owner,
        body: {
          location: 'westeurope',
          properties: {
            publisher: 'Microsoft.Azure.Extensions',
            type: 'CustomScript',
            typeHandlerVersion: '2.1',
          },
        },
      });
      assert.notEqual(allowed.status, 403, JSON.stringify(allowed.body));
    });

    void it('lets a Resource Policy Contributor assign but a Reader not', async () => {
      const contributor = await t.addPrincipal();
      await t.assign(contributor, RESOURCE_POLICY_CONTRIBUTOR_ROLE_ID, rg);
      const reader = await t.addPrincipal();
      await t.assign(reader, READER_ROLE_ID, rg);
      const body = {
        properties: { policyDefinitionId: `/${AUTH}/policyDefinitions/${LINUX_SSH_KEYS_POLICY}` },
      };
      assert.equal(
        (
          await t.inject('PUT', `${rg}/${AUTH}/policyAssignments/by-rpc?${V}`, {
            as: contributor,
            body,
          })
        ).status,
        201,
      );
      const denied = await t.inject('PUT', `${rg}/${AUTH}/policyAssignments/by-reader?${V}`, {
        as: reader,
        body,
      });
      assert.equal(denied.status, 403);
      assert.equal(errorOf(denied.body).code, 'AuthorizationFailed');
    });
  });
}
