// summarize counts each resource once, in its worst state: over an initiative's members for
// that assignment, and over everything for the overall results. On every store backend.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testBackends, type TestDatabase } from '../store/test-databases.js';
import { summarizeStates } from './policy-state-summary.js';

const SUB = '00000000-0000-0000-0000-000000000001';
const NOW = '2026-06-01T00:00:00.000Z';

for (const backend of testBackends()) {
  void describe(`summarizeStates (${backend.name})`, () => {
    let store: TestDatabase;
    before(async () => {
      store = await backend.open();
      const row = (
        machine: string,
        assignment: string,
        reference: string,
        state: 'Compliant' | 'NonCompliant' | 'Unknown',
      ) => ({
        machine_id: `/subscriptions/${SUB}/resourcegroups/rg/providers/microsoft.hybridcompute/machines/${machine}`,
        policy_assignment_id: `/subscriptions/${SUB}/providers/microsoft.authorization/policyassignments/${assignment}`,
        reference_id: reference,
        subscription_id: SUB,
        resource_group: 'rg',
        policy_assignment_name: assignment,
        policy_definition_id: `/providers/microsoft.authorization/policydefinitions/${reference}`,
        policy_set_definition_id:
          assignment === 'baseline'
            ? '/providers/microsoft.authorization/policysetdefinitions/linux'
            : null,
        definition_action: 'auditifnotexists',
        gc_assignment_name: null,
        compliance_state: state,
        exempt: 0,
        exempt_until: null,
        timestamp: NOW,
      });
      await store.db
        .insertInto('policy_states')
        .values([
          // An initiative of three members: m1 fails one of them, m2 passes all.
          row('m1', 'baseline', 'a', 'NonCompliant'),
          row('m1', 'baseline', 'b', 'Compliant'),
          row('m1', 'baseline', 'c', 'Compliant'),
          row('m2', 'baseline', 'a', 'Compliant'),
          row('m2', 'baseline', 'b', 'Compliant'),
          row('m2', 'baseline', 'c', 'Compliant'),
          // A single definition: m2 never reported, m3 only has this one.
          row('m2', 'tags', 'tags', 'Unknown'),
          row('m3', 'tags', 'tags', 'Compliant'),
        ])
        .execute();
    });
    after(() => store.dispose());

    void it('counts machines, not member rows, each in its worst state', async () => {
      const summary = (await summarizeStates(store.db, { subscriptionId: SUB }, {}, NOW, 10)) as {
        results: {
          nonCompliantResources: number;
          nonCompliantPolicies: number;
          resourceDetails: unknown;
        };
        policyAssignments: {
          policyAssignmentId: string;
          results: { nonCompliantResources: number; resourceDetails: unknown };
        }[];
      };
      // m1 NonCompliant; m2 Compliant (Compliant beats Unknown); m3 Compliant.
      assert.deepEqual(summary.results.resourceDetails, [
        { complianceState: 'Compliant', count: 2 },
        { complianceState: 'NonCompliant', count: 1 },
      ]);
      assert.equal(summary.results.nonCompliantResources, 1);
      assert.equal(summary.results.nonCompliantPolicies, 1);
      const baseline = summary.policyAssignments.find((a) =>
        a.policyAssignmentId.endsWith('/baseline'),
      );
      assert.equal(baseline?.results.nonCompliantResources, 1);
      assert.deepEqual(baseline?.results.resourceDetails, [
        { complianceState: 'Compliant', count: 1 },
        { complianceState: 'NonCompliant', count: 1 },
      ]);
      const tags = summary.policyAssignments.find((a) => a.policyAssignmentId.endsWith('/tags'));
      assert.deepEqual(tags?.results.resourceDetails, [
        { complianceState: 'Compliant', count: 1 },
        { complianceState: 'Unknown', count: 1 },
      ]);
    });
  });
}
