// Guest configuration assignments through the API: the package resolved from the repository,
// bad input refused with the field named, the agent's goal state woken by a change, reports
// stored once each with their history, and guest configuration switched off on the machine.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { AGENT_V, ExtensionTestWorld } from '../extensions/testing/extension-test-world.js';
import { armTestBackends } from '../resources/testing/arm-test-app.js';
import { CONTRIBUTOR_ROLE_ID } from '../rbac/built-in-roles.js';

const V = 'api-version=2022-01-25';

/** The value at a dotted path (`a.b.0.c`) of a parsed JSON answer. */
function at(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split('.')) {
    current = (current as Record<string, unknown> | undefined)?.[key];
  }
  return current;
}

for (const backend of armTestBackends()) {
  void describe(`guest configuration assignments (${backend.name})`, () => {
    let w: ExtensionTestWorld;
    let operator: string;
    const gc = (name: string, machine = 'web-01') =>
      `${w.machine(machine)}/providers/Microsoft.GuestConfiguration/guestConfigurationAssignments/${name}`;
    const put = (name: string, guestConfiguration: Record<string, unknown>) =>
      w.call('PUT', `${gc(name)}?${V}`, {
        as: operator,
        body: { properties: { guestConfiguration } },
      });
    const goalState = (query = '') =>
      w.call('GET', `${w.machine()}/guestConfigurationGoalState?${AGENT_V}${query}`, {
        as: w.machineA,
      });
    const upload = (body: Record<string, unknown>) =>
      w.call('POST', `${w.machine()}/guestConfigurationReports?${AGENT_V}`, {
        as: w.machineA,
        body,
      });
    const report = (
      status: 'Compliant' | 'NonCompliant',
      endTime: string,
      reportId = randomUUID(),
    ) => ({
      assignmentName: 'AzureLinuxBaseline',
      reportId,
      configurationName: 'AzureLinuxBaseline',
      version: '1.2.0',
      evaluationRequest: 0,
      startTime: endTime,
      endTime,
      operationType: 'Consistency',
      complianceStatus: status,
      resources: [
        {
          resourceId: '106.7',
          complianceStatus: status,
          reasons:
            status === 'Compliant'
              ? []
              : [{ code: 'configKey.value', phrase: 'MaxAuthTries is 10; expected at most 6' }],
        },
      ],
    });

    before(async () => {
      w = await ExtensionTestWorld.create({ backend });
      operator = await w.t.addPrincipal();
      await w.t.assign(operator, CONTRIBUTOR_ROLE_ID, `/subscriptions/${w.sub}`);
      await w.publish('Tether.GuestConfiguration', 'AzureLinuxBaseline', '1.0.0', '1.2.0', '2.0.0');
    });
    after(() => w.close());

    void it('creates an assignment from the newest published package its version allows', async () => {
      const created = await put('AzureLinuxBaseline', {
        name: 'AzureLinuxBaseline',
        version: '1.*',
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const properties = created.body['properties'];
      assert.equal(at(properties, 'guestConfiguration.version'), '1.2.0');
      assert.match(
        String(at(properties, 'guestConfiguration.contentUri')),
        /\/providers\/Tether\.Extensions\/publishers\/Tether\.GuestConfiguration\/types\/AzureLinuxBaseline\/versions\/1\.2\.0$/,
      );
      assert.equal(at(properties, 'complianceStatus'), 'Pending');
      assert.equal(
        at(properties, 'guestConfiguration.configurationSetting.configurationModeFrequencyMins'),
        15,
      );
      const read = await w.call('GET', `${gc('azurelinuxbaseline')}?api-version=2024-04-05`, {
        as: w.reader,
      });
      assert.equal(read.status, 200);
      assert.equal(read.body['name'], 'AzureLinuxBaseline');
    });

    void it('refuses bad input naming the field, and changes nothing', async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ name: 'Other' }, 'properties.guestConfiguration.name'],
        [{ name: 'AzureLinuxBaseline', version: '3.*' }, 'properties.guestConfiguration.version'],
        [
          { name: 'AzureLinuxBaseline', version: 'latest' },
          'properties.guestConfiguration.version',
        ],
        [
          { name: 'AzureLinuxBaseline', assignmentType: 'Enforce' },
          'properties.guestConfiguration.assignmentType',
        ],
        [
          {
            name: 'AzureLinuxBaseline',
            configurationSetting: { configurationModeFrequencyMins: 5 },
          },
          'properties.guestConfiguration.configurationSetting.configurationModeFrequencyMins',
        ],
        [
          { name: 'AzureLinuxBaseline', contentHash: 'ab'.repeat(32) },
          'properties.guestConfiguration.contentHash',
        ],
        [{ name: 'AzureLinuxBaseline', surprise: 1 }, 'properties.guestConfiguration.surprise'],
      ];
      for (const [body, target] of cases) {
        const answer = await put('AzureLinuxBaseline', body);
        assert.equal(answer.status, 400, JSON.stringify(body));
        assert.equal((answer.body['error'] as { target?: string }).target, target);
      }
      const read = await w.call('GET', `${gc('AzureLinuxBaseline')}?${V}`, { as: w.reader });
      assert.equal(at(read.body, 'properties.guestConfiguration.version'), '1.2.0');
    });

    // Waiting out its 30 s would overrun the 10 s limit: finishing shows the change answered it.
    void it("wakes the agent's goal-state poll with the change", { timeout: 10_000 }, async () => {
      const first = await goalState();
      assert.equal(first.status, 200);
      const generation = first.body['generation'] as number;
      const assignments = first.body['assignments'] as Record<string, unknown>[];
      assert.equal(assignments.length, 1);
      assert.equal(assignments[0]?.['contentHash'], '00'.repeat(32));
      assert.equal(assignments[0]?.['publisher'], 'Tether.GuestConfiguration');
      const polled = goalState(`&after=${generation}&wait=30`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const changed = await put('AzureLinuxBaseline', {
        name: 'AzureLinuxBaseline',
        version: '1.2.0',
        assignmentType: 'ApplyAndAutoCorrect',
      });
      assert.equal(changed.status, 200);
      const answer = await polled;
      assert.equal(answer.body['generation'], generation + 1);
      assert.equal(
        (answer.body['assignments'] as Record<string, unknown>[])[0]?.['assignmentType'],
        'ApplyAndAutoCorrect',
      );
    });

    void it('stores each report once, keeps the history and shows the latest', async () => {
      const failing = report('NonCompliant', '2026-01-01T00:00:00.000Z');
      const first = await upload({ reports: [failing] });
      assert.deepEqual(first.body, { accepted: 1 });
      assert.deepEqual((await upload({ reports: [failing] })).body, { accepted: 0 });
      const fixed = report('Compliant', '2026-01-01T00:15:00.000Z');
      assert.deepEqual((await upload({ reports: [fixed] })).body, { accepted: 1 });
      const read = await w.call('GET', `${gc('AzureLinuxBaseline')}?${V}`, { as: w.reader });
      const properties = read.body['properties'];
      assert.equal(at(properties, 'complianceStatus'), 'Compliant');
      assert.equal(at(properties, 'latestAssignmentReport.reportId'), fixed.reportId);
      assert.equal(at(properties, 'lastComplianceStatusChecked'), fixed.endTime);
      const history = await w.call('GET', `${gc('AzureLinuxBaseline')}/reports?${V}`, {
        as: w.reader,
      });
      const reports = history.body['value'] as unknown[];
      assert.deepEqual(
        reports.map((r) => [at(r, 'properties.complianceStatus'), at(r, 'properties.endTime')]),
        [
          ['Compliant', fixed.endTime],
          ['NonCompliant', failing.endTime],
        ],
      );
      const one = await w.call(
        'GET',
        `${gc('AzureLinuxBaseline')}/reports/${failing.reportId}?${V}`,
        {
          as: w.reader,
        },
      );
      assert.equal(one.status, 200);
      assert.equal(
        at(one.body, 'properties.details.resources.0.reasons.0.phrase'),
        'MaxAuthTries is 10; expected at most 6',
      );
    });

    void it('refuses a malformed upload whole, naming the field', async () => {
      const bad = { ...report('Compliant', '2026-01-01T00:30:00.000Z'), complianceStatus: 'Fine' };
      const answer = await upload({
        reports: [report('Compliant', '2026-01-01T00:30:00.000Z'), bad],
      });
      assert.equal(answer.status, 400);
      assert.equal(
        (answer.body['error'] as { target?: string }).target,
        'reports[1].complianceStatus',
      );
      const history = await w.call('GET', `${gc('AzureLinuxBaseline')}/reports?${V}`, {
        as: w.reader,
      });
      assert.equal((history.body['value'] as unknown[]).length, 2);
    });

    void it('shows NonCompliant with the local reason while guest configuration is off', async () => {
      const reason = 'guestconfiguration.enabled is false in the agent configuration';
      assert.equal((await upload({ disabledReason: reason, reports: [] })).status, 200);
      const read = await w.call('GET', `${gc('AzureLinuxBaseline')}?${V}`, { as: w.reader });
      assert.equal(at(read.body, 'properties.complianceStatus'), 'NonCompliant');
      assert.equal(
        at(read.body, 'properties.latestAssignmentReport.resources.0.reasons.0.phrase'),
        reason,
      );
      await upload({ reports: [] });
      const again = await w.call('GET', `${gc('AzureLinuxBaseline')}?${V}`, { as: w.reader });
      assert.equal(at(again.body, 'properties.complianceStatus'), 'Compliant');
    });

    void it('lists by machine, group and subscription, and deletes', async () => {
      for (const url of [
        `${w.machine()}/providers/Microsoft.GuestConfiguration/guestConfigurationAssignments`,
        `/subscriptions/${w.sub}/resourceGroups/Fleet/providers/Microsoft.GuestConfiguration/guestConfigurationAssignments`,
        `/subscriptions/${w.sub}/providers/Microsoft.GuestConfiguration/guestConfigurationAssignments`,
      ]) {
        // The reader holds its role at the group; the operator at the subscription.
        const as = url.includes('resourceGroups') ? w.reader : operator;
        const list = await w.call('GET', `${url}?${V}`, { as });
        assert.equal(list.status, 200, url);
        assert.equal((list.body['value'] as unknown[]).length, 1, url);
      }
      assert.equal(
        (await w.call('DELETE', `${gc('AzureLinuxBaseline')}?${V}`, { as: operator })).status,
        200,
      );
      assert.equal(
        (await w.call('GET', `${gc('AzureLinuxBaseline')}?${V}`, { as: w.reader })).status,
        404,
      );
      assert.equal(((await goalState()).body['assignments'] as unknown[]).length, 0);
    });
  });
}
