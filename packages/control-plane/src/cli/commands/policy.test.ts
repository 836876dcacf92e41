// `tether policy`: the requests each command sends (names resolved to ids, parameters in ARM's
// shape), its tables, and bad input refused before anything is sent.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { CliTestKit, TEST_SUBSCRIPTION } from '../client/testing/cli-test-kit.js';
import { register } from './policy.js';

const SUB = `/subscriptions/${TEST_SUBSCRIPTION}`;
const AUTH = '/providers/Microsoft.Authorization';
const INSIGHTS = '/providers/Microsoft.PolicyInsights/policyStates/latest';
const INITIATIVE = {
  id: `${AUTH}/policySetDefinitions/4d2c9e71`,
  name: '4d2c9e71',
  properties: { displayName: 'Linux security baseline', policyType: 'BuiltIn' },
};
const ASSIGNMENT = {
  id: `${SUB}/resourceGroups/demo${AUTH}/policyAssignments/baseline`,
  name: 'baseline',
  properties: { policyDefinitionId: INITIATIVE.id, scope: `${SUB}/resourceGroups/demo` },
};

void describe('tether policy', () => {
  let kit: CliTestKit;
  let work: string;
  beforeEach(async () => {
    kit = await CliTestKit.create(register);
    await kit.signIn();
    work = await mkdtemp(join(tmpdir(), 'tether-policy-'));
  });
  afterEach(async () => {
    await kit.dispose();
    await rm(work, { recursive: true, force: true });
  });
  const puts = () => kit.transport.requests.filter((r) => r.method === 'PUT');

  void it('definition create sends the rule from @file, its mode and parameters', async () => {
    const rule = {
      if: { field: 'tags.env', equals: "[parameters('env')]" },
      then: { effect: 'audit' },
    };
    await writeFile(join(work, 'rule.json'), JSON.stringify(rule));
    kit.transport.on('PUT', `${SUB}${AUTH}/policyDefinitions/tagged`, (r) => ({
      status: 201,
      body: { id: r.path, name: 'tagged', ...(r.body as object) },
    }));
    const run = await kit.run(
      'policy',
      'definition',
      'create',
      '-n',
      'tagged',
      '--rules',
      `@${join(work, 'rule.json')}`,
      '--params',
      '{"env":{"type":"String"}}',
      '--mode',
      'All',
      '--display-name',
      'Tagged',
      '-o',
      'table',
    );
    assert.equal(run.exitCode, 0, run.stderr);
    assert.deepEqual(puts()[0]?.body, {
      properties: {
        policyType: 'Custom',
        mode: 'All',
        policyRule: rule,
        parameters: { env: { type: 'String' } },
        displayName: 'Tagged',
      },
    });
    assert.equal(puts()[0]?.query.get('api-version'), '2024-05-01');
    assert.match(run.stdout, /^Name\s+DisplayName\s+PolicyType\s+Mode\n/);
    assert.match(run.stdout, /tagged\s+Tagged\s+Custom\s+All/);
  });

  void it('definition create refuses rules that are not JSON, or not a rule, sending nothing', async () => {
    for (const [rules, message] of [
      ['{"if":', /--rules is not valid JSON/],
      ['{"effect":"audit"}', /--rules must be a policy rule with "if" and "then"/],
      [`@${join(work, 'missing.json')}`, /--rules: cannot read .*missing\.json/],
    ] as const) {
      const run = await kit.run('policy', 'definition', 'create', '-n', 'x', '--rules', rules);
      assert.equal(run.exitCode, 2, rules);
      assert.match(run.stderr, message);
    }
    assert.deepEqual(kit.transport.calls(), []);
  });

  void it('assignment create finds an initiative by display name and wraps plain parameter values', async () => {
    kit.transport
      .on('GET', `${SUB}${AUTH}/policySetDefinitions`, { body: { value: [INITIATIVE] } })
      .on('PUT', `${SUB}/resourceGroups/demo${AUTH}/policyAssignments/baseline`, (r) => ({
        status: 201,
        body: { ...ASSIGNMENT, properties: (r.body as { properties: object }).properties },
      }));
    const run = await kit.run(
      'policy',
      'assignment',
      'create',
      '-n',
      'baseline',
      '-g',
      'demo',
      '--policy-set-definition',
      'linux SECURITY baseline',
      '--params',
      '{"effect":"AuditIfNotExists","level":{"value":2}}',
      '--not-scopes',
      `${SUB}/resourceGroups/demo/providers/Microsoft.HybridCompute/machines/lab`,
      '--enforcement-mode',
      'DoNotEnforce',
    );
    assert.equal(run.exitCode, 0, run.stderr);
    assert.deepEqual(puts()[0]?.body, {
      properties: {
        policyDefinitionId: INITIATIVE.id,
        enforcementMode: 'DoNotEnforce',
        displayName: 'Linux security baseline',
        notScopes: [`${SUB}/resourceGroups/demo/providers/Microsoft.HybridCompute/machines/lab`],
        parameters: { effect: { value: 'AuditIfNotExists' }, level: { value: 2 } },
      },
    });
  });

  void it('assignment create needs exactly one policy, and names an unknown one', async () => {
    const both = await kit.run(
      'policy',
      'assignment',
      'create',
      '-n',
      'a',
      '--policy',
      'p',
      '--policy-set-definition',
      's',
    );
    assert.equal(both.exitCode, 2);
    assert.match(both.stderr, /exactly one of --policy .* or --policy-set-definition/);
    assert.deepEqual(kit.transport.calls(), []);

    kit.transport.on('GET', `${SUB}${AUTH}/policyDefinitions`, { body: { value: [] } });
    const unknown = await kit.run('policy', 'assignment', 'create', '-n', 'a', '--policy', 'nope');
    assert.equal(unknown.exitCode, 3);
    assert.match(unknown.stderr, /--policy: no policy definition 'nope' exists/);
    assert.equal(puts().length, 0);
  });

  void it('definition delete refuses a built-in and deletes a custom one', async () => {
    kit.transport
      .on('GET', `${SUB}${AUTH}/policyDefinitions/builtin`, {
        body: {
          id: `${AUTH}/policyDefinitions/builtin`,
          name: 'builtin',
          properties: { policyType: 'BuiltIn' },
        },
      })
      .on('GET', `${SUB}${AUTH}/policyDefinitions/mine`, {
        body: {
          id: `${SUB}${AUTH}/policyDefinitions/mine`,
          name: 'mine',
          properties: { policyType: 'Custom' },
        },
      })
      .on('DELETE', `${SUB}${AUTH}/policyDefinitions/mine`, { status: 200 });
    const builtIn = await kit.run('policy', 'definition', 'delete', '-n', 'builtin');
    assert.equal(builtIn.exitCode, 2);
    assert.match(builtIn.stderr, /built in/);
    const custom = await kit.run('policy', 'definition', 'delete', '-n', 'mine');
    assert.equal(custom.exitCode, 0, custom.stderr);
    assert.deepEqual(
      kit.transport.calls().filter((c) => c.startsWith('DELETE')),
      [`DELETE ${SUB}${AUTH}/policyDefinitions/mine`],
    );
  });

  void it('exemption create finds the assignment by name above the scope and sends the category and expiry', async () => {
    const machine = `${SUB}/resourceGroups/demo/providers/Microsoft.HybridCompute/machines/web1`;
    kit.transport
      .on('GET', `${machine}${AUTH}/policyAssignments`, (r) => ({
        body: { value: r.query.get('$filter') === 'atScope()' ? [ASSIGNMENT] : [] },
      }))
      .on('PUT', `${machine}${AUTH}/policyExemptions/waive-ssh`, (r) => ({
        status: 201,
        body: { id: r.path, name: 'waive-ssh', ...(r.body as object) },
      }));
    const run = await kit.run(
      'policy',
      'exemption',
      'create',
      '-n',
      'waive-ssh',
      '-g',
      'demo',
      '--machine-name',
      'web1',
      '--policy-assignment',
      'baseline',
      '--exemption-category',
      'Waiver',
      '--expires-on',
      '2026-12-31',
      '--policy-definition-reference-ids',
      'ssh-keys',
      'baseline',
    );
    assert.equal(run.exitCode, 0, run.stderr);
    assert.deepEqual(puts()[0]?.body, {
      properties: {
        policyAssignmentId: ASSIGNMENT.id,
        exemptionCategory: 'Waiver',
        expiresOn: '2026-12-31T00:00:00.000Z',
        policyDefinitionReferenceIds: ['ssh-keys', 'baseline'],
      },
    });
    assert.equal(puts()[0]?.query.get('api-version'), '2022-07-01-preview');

    const bad = await kit.run(
      'policy',
      'exemption',
      'create',
      '-n',
      'x',
      '--policy-assignment',
      'baseline',
      '--exemption-category',
      'Forever',
    );
    assert.equal(bad.exitCode, 2);
    assert.match(bad.stderr, /Allowed choices are Waiver, Mitigated/);
  });

  void it('state list pages through queryResults and shows machine, assignment, policy and state', async () => {
    const state = (machine: string, ref: string, complianceState: string) => ({
      resourceId: `${SUB}/resourceGroups/demo/providers/Microsoft.HybridCompute/machines/${machine}`,
      policyAssignmentName: 'baseline',
      policyDefinitionName: 'fc9b3da7',
      policyDefinitionReferenceId: ref,
      complianceState,
      timestamp: '2026-06-01T11:00:00Z',
    });
    kit.transport.on('POST', `${SUB}/resourceGroups/demo${INSIGHTS}/queryResults`, (r) =>
      r.query.get('$skiptoken') === null
        ? {
            body: {
              value: [state('web1', 'baseline', 'NonCompliant')],
              '@odata.nextLink': `https://tether.test:8443${r.path}?api-version=2024-10-01&$skiptoken=MQ`,
            },
          }
        : { body: { value: [state('web2', 'ssh-keys', 'Compliant')] } },
    );
    const run = await kit.run(
      'policy',
      'state',
      'list',
      '-g',
      'demo',
      '--filter',
      "complianceState eq 'NonCompliant'",
      '-o',
      'table',
    );
    assert.equal(run.exitCode, 0, run.stderr);
    const lines = run.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^Machine\s+Assignment\s+Policy\s+State\s+Timestamp$/);
    assert.match(lines[2] ?? '', /^web1\s+baseline\s+baseline\s+NonCompliant/);
    assert.match(lines[3] ?? '', /^web2\s+baseline\s+ssh-keys\s+Compliant/);
    const first = kit.transport.requests.find((r) => r.method === 'POST');
    assert.equal(first?.query.get('$filter'), "complianceState eq 'NonCompliant'");
    assert.equal(first?.query.get('api-version'), '2024-10-01');
  });

  void it('state summarize counts compliant and non-compliant machines per assignment', async () => {
    kit.transport.on('POST', `${SUB}${INSIGHTS}/summarize`, {
      body: {
        value: [
          {
            results: { nonCompliantResources: 1 },
            policyAssignments: [
              {
                policyAssignmentId: ASSIGNMENT.id,
                results: {
                  nonCompliantResources: 1,
                  nonCompliantPolicies: 2,
                  resourceDetails: [
                    { complianceState: 'compliant', count: 3 },
                    { complianceState: 'noncompliant', count: 1 },
                  ],
                },
              },
            ],
          },
        ],
      },
    });
    const run = await kit.run('policy', 'state', 'summarize', '-o', 'table');
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(
      run.stdout,
      /^Assignment\s+Compliant\s+NonCompliant\s+Exempt\s+NonCompliantPolicies\n/,
    );
    assert.match(run.stdout, /\nbaseline\s+3\s+1\s+0\s+2\n/);
  });

  void it('state trigger-scan waits on the Location it is given, unless --no-wait', async () => {
    const location = `https://tether.test:8443${SUB}/providers/Microsoft.PolicyInsights/asyncOperationResults/op1?api-version=2024-10-01`;
    let polls = 0;
    kit.transport
      .on('POST', `${SUB}/resourceGroups/demo${INSIGHTS}/triggerEvaluation`, {
        status: 202,
        headers: { location },
      })
      .on('GET', `${SUB}/providers/Microsoft.PolicyInsights/asyncOperationResults/op1`, () => {
        polls += 1;
        return polls < 2
          ? { status: 202, headers: { location } }
          : { body: { status: 'Succeeded' } };
      });
    const run = await kit.run('policy', 'state', 'trigger-scan', '-g', 'demo');
    assert.equal(run.exitCode, 0, run.stderr);
    assert.equal(polls, 2);
    const noWait = await kit.run('policy', 'state', 'trigger-scan', '-g', 'demo', '--no-wait');
    assert.equal(noWait.exitCode, 0, noWait.stderr);
    assert.equal(polls, 2);
  });
});
