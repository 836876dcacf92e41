// Compliance through Microsoft.PolicyInsights: a guest configuration policy assigned to a group
// gives its Linux machines their assignments, whose reports, exemptions (until they expire),
// a local switch-off and re-scoping show in queryResults and summarize.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { AGENT_V, ExtensionTestWorld } from '../extensions/testing/extension-test-world.js';
import { GcSwitchWatch, gcSwitchedOff } from '../guest-configuration/gc-switch-watch.js';
import { armTestBackends } from '../resources/testing/arm-test-app.js';
import type { PolicyChangeNotice, PolicySource } from '../guest-configuration/policy-source.js';
import {
  evaluatePolicies,
  BUILT_IN_POLICY_DEFINITIONS,
  compileAssignment,
  LINUX_BASELINE_POLICY,
  parsePolicyDefinition,
  type AssignmentRecord,
  type ExemptionRecord,
  type PolicyResourceView,
} from '../policy/index.js';
import { gcServicesOf } from '../guest-configuration/gc-services.js';
import { policyMatchingIdle } from '../guest-configuration/policy-matcher.js';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { CONTRIBUTOR_ROLE_ID } from '../rbac/built-in-roles.js';

const V = 'api-version=2024-10-01';
const BASELINE = BUILT_IN_POLICY_DEFINITIONS.find((d) => d.name === LINUX_BASELINE_POLICY);

/** Policy as the policy store would answer: one assignment and its exemptions, held here. */
class HeldPolicy implements PolicySource {
  assignments: AssignmentRecord[] = [];
  exemptions: ExemptionRecord[] = [];
  private listeners: ((change: PolicyChangeNotice) => void)[] = [];
  constructor(private readonly now: () => number) {}
  evaluator() {
    const definitionId = `/providers/Microsoft.Authorization/policyDefinitions/${LINUX_BASELINE_POLICY}`;
    const compiled = this.assignments.map((record) =>
      compileAssignment(record, {
        kind: 'definition',
        id: definitionId,
        document: parsePolicyDefinition(BASELINE?.properties),
      }),
    );
    const exemptions = this.exemptions;
    const now = this.now();
    return Promise.resolve((view: PolicyResourceView) =>
      evaluatePolicies(view, compiled, exemptions, now),
    );
  }
  onChange(listener: (change: PolicyChangeNotice) => void): () => void {
    this.listeners.push(listener);
    return () => undefined;
  }
  /** Tells the listeners, as the policy routes do, and waits for the background matching. */
  async changed(db: Kysely<Database>, scope: string): Promise<void> {
    const change: PolicyChangeNotice = {
      kind: 'assignment',
      change: 'updated',
      id: '',
      scope: scope.toLowerCase(),
    };
    for (const listener of this.listeners) listener(change);
    await policyMatchingIdle(db);
  }
}

for (const backend of armTestBackends()) {
  void describe(`policy states (${backend.name})`, () => {
    let w: ExtensionTestWorld;
    let policy: HeldPolicy;
    let operator: string;
    const group = () => `/subscriptions/${w.sub}/resourceGroups/Fleet`;
    const query = async (filter = '') => {
      const answer = await w.call(
        'POST',
        `${group()}/providers/Microsoft.PolicyInsights/policyStates/latest/queryResults?${V}${filter === '' ? '' : `&$filter=${encodeURIComponent(filter)}`}`,
        { as: w.reader },
      );
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      return (answer.body['value'] as Record<string, unknown>[]).map((r) => [
        String(r['resourceId']).split('/').at(-1),
        r['complianceState'],
      ]);
    };
    /** Agents' goal-state polls held open on both machines: which are woken, and why. */
    const holdPolls = () => {
      const { waiters } = gcServicesOf(w.t.services);
      const woken: string[] = [];
      const polls = ['web-01', 'web-02'].map((name) => {
        const poll = waiters.wait(w.machine(name).toLowerCase(), 600_000, new EventEmitter());
        void poll.done.then((outcome) => {
          if (outcome === 'changed') woken.push(name);
        });
        return poll;
      });
      return {
        woken: async () => {
          await new Promise((resolve) => setImmediate(resolve));
          return [...woken].sort();
        },
        release: () => polls.forEach((p) => p.cancel()),
      };
    };
    const upload = (body: Record<string, unknown>) =>
      w.call('POST', `${w.machine()}/guestConfigurationReports?${AGENT_V}`, {
        as: w.machineA,
        body,
      });

    before(async () => {
      let clock: () => number = () => 0;
      policy = new HeldPolicy(() => clock());
      w = await ExtensionTestWorld.create({ policy, backend });
      clock = () => w.t.clock.now();
      operator = await w.t.addPrincipal();
      await w.t.assign(operator, CONTRIBUTOR_ROLE_ID, `/subscriptions/${w.sub}`);
      await w.publish('Tether.GuestConfiguration', 'AzureLinuxBaseline', '1.0.0');
      const scope = group().toLowerCase();
      policy.assignments = [
        {
          id: `${group()}/providers/Microsoft.Authorization/policyAssignments/baseline`,
          name: 'baseline',
          displayName: undefined,
          scope,
          notScopes: [],
          enforcementMode: 'Default',
          policyDefinitionId: `/providers/microsoft.authorization/policydefinitions/${LINUX_BASELINE_POLICY}`,
          parameters: {},
        },
      ];
      await policy.changed(w.t.db, group());
    });
    after(() => w.close());

    void it('gives every Linux machine in scope its assignment, Unknown until it reports', async () => {
      assert.deepEqual(await query(), [
        ['web-01', 'Unknown'],
        ['web-02', 'Unknown'],
      ]);
      const goal = await w.call('GET', `${w.machine()}/guestConfigurationGoalState?${AGENT_V}`, {
        as: w.machineA,
      });
      const assignments = goal.body['assignments'] as Record<string, unknown>[];
      assert.deepEqual(
        assignments.map((a) => [a['name'], a['version']]),
        [['AzureLinuxBaseline', '1.0.0']],
      );
    });

    void it('shows reports, a local switch-off, and filters', async () => {
      const accepted = await upload({
        reports: [
          {
            assignmentName: 'AzureLinuxBaseline',
            reportId: randomUUID(),
            configurationName: 'AzureLinuxBaseline',
            version: '1.0.0',
            evaluationRequest: 0,
            startTime: '2026-01-01T00:00:00Z',
            endTime: '2026-01-01T00:00:01Z',
            operationType: 'Initial',
            complianceStatus: 'Compliant',
            resources: [],
          },
        ],
      });
      assert.deepEqual(accepted.body, { accepted: 1 });
      assert.deepEqual(await query("complianceState eq 'Compliant'"), [['web-01', 'Compliant']]);
      await upload({ disabledReason: 'guestconfiguration.enabled is false', reports: [] });
      assert.deepEqual(await query(`resourceId eq '${w.machine()}'`), [['web-01', 'NonCompliant']]);
      await upload({ reports: [] });
      const summary = await w.call(
        'POST',
        `${group()}/providers/Microsoft.PolicyInsights/policyStates/latest/summarize?${V}`,
        { as: w.reader },
      );
      const results = (summary.body['value'] as Record<string, unknown>[])[0]?.['results'];
      assert.deepEqual((results as Record<string, unknown>)['resourceDetails'], [
        { complianceState: 'Compliant', count: 1 },
        { complianceState: 'Unknown', count: 1 },
      ]);
    });

    void it("follows the guest configuration switch in the machine's heartbeat", async () => {
      // What the heartbeat route hands on (the route itself is tested with the whole app).
      const heartbeat = (agentConfiguration: Record<string, unknown>) =>
        GcSwitchWatch.of(w.t.db).observe(
          w.machine().toLowerCase(),
          gcSwitchedOff({ agentVersion: '1.40.0', agentConfiguration }),
          () => new Date(w.t.clock.now()).toISOString(),
        );
      const mine = `resourceId eq '${w.machine()}'`;
      await heartbeat({ guestConfigurationEnabled: 'false', configMode: 'full' });
      assert.deepEqual(await query(mine), [['web-01', 'NonCompliant']]);
      await heartbeat({ guestConfigurationEnabled: 'true', configMode: 'full' });
      assert.deepEqual(await query(mine), [['web-01', 'Compliant']]);
      await heartbeat({ guestConfigurationEnabled: 'true', configMode: 'monitor' });
      assert.deepEqual(await query(mine), [['web-01', 'NonCompliant']]);
      await heartbeat({ guestConfigurationEnabled: 'true', configMode: 'full' });
      assert.deepEqual(await query(mine), [['web-01', 'Compliant']]);
    });

    void it('counts an exemption until it expires, on the injected clock', async () => {
      const expiresOn = new Date(w.t.clock.now() + 60_000).toISOString();
      policy.exemptions = [
        {
          id: 'x',
          scope: `${group()}/providers/Microsoft.HybridCompute/machines/web-02`.toLowerCase(),
          policyAssignmentId: policy.assignments[0]?.id.toLowerCase() ?? '',
          policyDefinitionReferenceIds: [],
          exemptionCategory: 'Waiver',
          expiresOn,
        },
      ];
      const polls = holdPolls();
      await policy.changed(w.t.db, group());
      // An exemption changes compliance, not what any agent runs: no agent is woken for it.
      assert.deepEqual(await polls.woken(), []);
      polls.release();
      assert.deepEqual(await query(), [
        ['web-01', 'Compliant'],
        ['web-02', 'Exempt'],
      ]);
      w.t.clock.advance(60_000);
      assert.deepEqual(await query(), [
        ['web-01', 'Compliant'],
        ['web-02', 'Unknown'],
      ]);
    });

    void it('removes the assignment from a machine the policy assignment no longer covers', async () => {
      const first = policy.assignments[0];
      if (first === undefined) throw new Error('no assignment');
      policy.assignments = [
        {
          ...first,
          notScopes: [`${group()}/providers/microsoft.hybridcompute/machines/web-02`.toLowerCase()],
        },
      ];
      const polls = holdPolls();
      await policy.changed(w.t.db, group());
      // Only the agent whose assignment went away is told.
      assert.deepEqual(await polls.woken(), ['web-02']);
      polls.release();
      assert.deepEqual(await query(), [['web-01', 'Compliant']]);
      const list = await w.call(
        'GET',
        `${w.machine('web-02')}/providers/Microsoft.GuestConfiguration/guestConfigurationAssignments?api-version=2022-01-25`,
        { as: w.reader },
      );
      assert.deepEqual(list.body['value'], []);
    });

    void it('triggers an evaluation: 202 with Location, and a larger evaluationRequest', async () => {
      const trigger = await w.call(
        'POST',
        `${group()}/providers/Microsoft.PolicyInsights/policyStates/latest/triggerEvaluation?${V}`,
        { as: operator },
      );
      assert.equal(trigger.status, 202);
      assert.match(String(trigger.headers['location']), /asyncOperationResults/);
      const goal = await w.call('GET', `${w.machine()}/guestConfigurationGoalState?${AGENT_V}`, {
        as: w.machineA,
      });
      const [assignment] = goal.body['assignments'] as Record<string, unknown>[];
      assert.equal(assignment?.['evaluationRequest'], 1);
      const refused = await w.call(
        'POST',
        `${group()}/providers/Microsoft.PolicyInsights/policyStates/latest/triggerEvaluation?${V}`,
        { as: w.reader },
      );
      assert.equal(refused.status, 403);
    });
  });
}
