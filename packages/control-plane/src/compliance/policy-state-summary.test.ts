// summarize counts each resource once, in its worst state: over an initiative's members for
// that assignment, and over everything for the overall results; the stored states follow
// exemptions (until they end) and a machine's guest configuration switch. On every backend.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testBackends, type TestDatabase } from '../store/testing/test-databases.js';
import { expireExemptions, restateMachines } from './policy-state-restate.js';
import { summarizeStates } from './policy-state-summary.js';

const SUB = '00000000-0000-0000-0000-000000000001';
const NOW = '2026-06-01T00:00:00.000Z';
const machineId = (name: string) =>
  `/subscriptions/${SUB}/resourcegroups/rg/providers/microsoft.hybridcompute/machines/${name}`;

interface Summary {
  results: {
    nonCompliantResources: number;
    nonCompliantPolicies: number;
    resourceDetails: unknown;
  };
  policyAssignments: {
    policyAssignmentId: string;
    results: { nonCompliantResources: number; resourceDetails: unknown };
    policyDefinitions: {
      policyDefinitionReferenceId: string;
      results: { resourceDetails: unknown };
    }[];
  }[];
}

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
        machine_id: machineId(machine),
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
        gc_assignment_name: assignment === 'baseline' ? 'azurelinuxbaseline' : null,
        compliance_state: state,
        exempt: 0,
        exempt_until: null,
        timestamp: NOW,
        state: 'Unknown' as const,
        assignment_rank: null,
        machine_rank: null,
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
      await restateMachines(store.db, ['m1', 'm2', 'm3'].map(machineId), NOW);
    });
    const summarize = async (filter = {}) =>
      (await summarizeStates(store.db, { subscriptionId: SUB }, filter, 10)) as unknown as Summary;
    const assignment = (summary: Summary, name: string) =>
      summary.policyAssignments.find((a) => a.policyAssignmentId.endsWith(`/${name}`));
    after(() => store.dispose());

    void it('counts machines, not member rows, each in its worst state', async () => {
      const summary = await summarize();
      // m1 NonCompliant; m2 Compliant (Compliant beats Unknown); m3 Compliant.
      assert.deepEqual(summary.results.resourceDetails, [
        { complianceState: 'Compliant', count: 2 },
        { complianceState: 'NonCompliant', count: 1 },
      ]);
      assert.equal(summary.results.nonCompliantResources, 1);
      assert.equal(summary.results.nonCompliantPolicies, 1);
      const baseline = assignment(summary, 'baseline');
      assert.equal(baseline?.results.nonCompliantResources, 1);
      assert.deepEqual(baseline?.results.resourceDetails, [
        { complianceState: 'Compliant', count: 1 },
        { complianceState: 'NonCompliant', count: 1 },
      ]);
      const tags = assignment(summary, 'tags');
      assert.deepEqual(tags?.results.resourceDetails, [
        { complianceState: 'Compliant', count: 1 },
        { complianceState: 'Unknown', count: 1 },
      ]);
    });

    void it('with a state filter, counts the machines that have a state of that kind', async () => {
      const summary = await summarize({ complianceState: 'compliant' });
      // m1 fails one baseline member but passes two: it has Compliant states too.
      assert.deepEqual(summary.results.resourceDetails, [
        { complianceState: 'Compliant', count: 3 },
      ]);
      assert.deepEqual(assignment(summary, 'baseline')?.results.resourceDetails, [
        { complianceState: 'Compliant', count: 2 },
      ]);
      const byName = await summarize({ policyAssignmentName: 'TAGS' });
      assert.deepEqual(byName.results.resourceDetails, [
        { complianceState: 'Compliant', count: 1 },
        { complianceState: 'Unknown', count: 1 },
      ]);
      assert.equal(byName.policyAssignments.length, 1);
    });

    void it('counts an exemption until it ends, then the state beneath it', async () => {
      const m1 = machineId('m1');
      await store.db
        .updateTable('policy_states')
        .set({ exempt: 1, exempt_until: '2026-06-01T01:00:00.000Z' })
        .where('machine_id', '=', m1)
        .where('reference_id', '=', 'a')
        .execute();
      await restateMachines(store.db, [m1], NOW);
      let baseline = assignment(await summarize(), 'baseline');
      assert.deepEqual(baseline?.results.resourceDetails, [
        { complianceState: 'Compliant', count: 2 },
      ]);
      assert.deepEqual(
        baseline?.policyDefinitions.find((d) => d.policyDefinitionReferenceId === 'a')?.results
          .resourceDetails,
        [
          { complianceState: 'Compliant', count: 1 },
          { complianceState: 'Exempt', count: 1 },
        ],
      );
      await expireExemptions(store.db, '2026-06-01T00:59:59.999Z');
      assert.equal(assignment(await summarize(), 'baseline')?.results.nonCompliantResources, 0);
      await expireExemptions(store.db, '2026-06-01T01:00:00.000Z');
      baseline = assignment(await summarize(), 'baseline');
      assert.equal(baseline?.results.nonCompliantResources, 1);
      await store.db
        .updateTable('policy_states')
        .set({ exempt: 0, exempt_until: null })
        .where('machine_id', '=', m1)
        .execute();
    });

    void it('shows a machine with guest configuration switched off NonCompliant in its audits', async () => {
      const m2 = machineId('m2');
      await store.db
        .insertInto('guest_configuration_machines')
        .values({
          machine_id: m2,
          generation: 0,
          evaluation_request: 0,
          disabled_reason: null,
          reconciled_for: null,
          switched_off: 1,
        })
        .execute();
      await restateMachines(store.db, [m2], NOW);
      const summary = await summarize();
      assert.equal(summary.results.nonCompliantResources, 2);
      assert.deepEqual(assignment(summary, 'baseline')?.results.resourceDetails, [
        { complianceState: 'NonCompliant', count: 2 },
      ]);
      // Its policy without a guest configuration is not one the switch decides.
      assert.deepEqual(assignment(summary, 'tags')?.results.resourceDetails, [
        { complianceState: 'Compliant', count: 1 },
        { complianceState: 'Unknown', count: 1 },
      ]);
    });
  });
}
