// Compliance summarize at subscription scope over 10,000 machines × 3 guest configuration policy
// assignments, through the real control-plane app in-process (inject: authentication, RBAC, the
// staleness check, the summary, JSON), beside a bare SQL GROUP BY over the same rows in the same run.
import { cpus, loadavg } from 'node:os';
import { sql } from 'kysely';
import {
  LINUX_BASELINE_POLICY,
  LINUX_NO_PASSWORDLESS_ACCOUNTS_POLICY,
  LINUX_SSH_KEYS_POLICY,
} from '@tether/control-plane/policy/built-in-policies';
import { restateMachines } from '@tether/control-plane/compliance/policy-state-restate';
import { TestControlPlane } from '@tether/control-plane/server/testing/test-control-plane';
import { testBackends, type TestBackend } from '@tether/control-plane/store/testing/test-databases';
import { seedMachines } from '../fixtures/seed-machines.js';
import { report, summarize } from '../stats.js';

const MACHINES = 10_000;
const GROUPS = 20;
const WARMUP = 20;
const ROUNDS = 200;
const INSIGHTS_V = 'api-version=2024-10-01';
const POLICY_V = 'api-version=2024-05-01';
const POLICIES = [
  LINUX_BASELINE_POLICY,
  LINUX_SSH_KEYS_POLICY,
  LINUX_NO_PASSWORDLESS_ACCOUNTS_POLICY,
];

/** What a connected agent's heartbeat leaves in `machine_agents.report`, at its usual size. */
function heartbeatReport(i: number): string {
  return JSON.stringify({
    agentVersion: '1.40.0',
    osName: 'ubuntu',
    osVersion: '24.04',
    osType: 'linux',
    machineFqdn: `node-${i}.bench.test`,
    serviceStatuses: {
      himds: { status: 'running', startupType: 'automatic' },
      gcarcservice: { status: 'running', startupType: 'automatic' },
      extensionservice: { status: 'running', startupType: 'automatic' },
    },
    agentConfiguration: {
      extensionsAllowList: [
        { publisher: 'Microsoft.Azure.Monitor', type: 'AzureMonitorLinuxAgent' },
      ],
      extensionsBlockList: [],
      extensionsEnabled: 'true',
      // One machine in a hundred has guest configuration switched off: its audits count NonCompliant.
      guestConfigurationEnabled: i % 100 === 7 ? 'false' : 'true',
      configMode: 'full',
      proxyUrl: '',
      proxyBypass: [],
      incomingConnectionsPorts: [],
      incomingConnectionsEnabled: 'true',
    },
  });
}

async function seed(plane: TestControlPlane, subscriptionId: string): Promise<void> {
  await seedMachines(plane.db, subscriptionId, {
    machines: MACHINES,
    groups: GROUPS,
    now: plane.clock.now(),
    tags: (i) => ({ role: i % 3 === 0 ? 'db' : 'web' }),
    report: heartbeatReport,
  });
}

/** Reports as agents would have sent them: machines whose number ends in 0-6 Compliant, else not. */
async function simulateReports(plane: TestControlPlane): Promise<void> {
  await plane.db.transaction().execute(async (trx) => {
    await sql`update guest_configuration_assignments set compliance_status =
      case when cast(substr(machine_id, length(machine_id), 1) as integer) < 7
        then 'Compliant' else 'NonCompliant' end`.execute(trx);
    await sql`update policy_states set compliance_state = coalesce((
      select compliance_status from guest_configuration_assignments g
      where g.machine_id = policy_states.machine_id and lower(g.name) = policy_states.gc_assignment_name
    ), compliance_state) where gc_assignment_name is not null`.execute(trx);
  });
  // What the report route does after storing a machine's reports.
  const machines = await plane.db.selectFrom('machines').select('id').execute();
  await restateMachines(
    plane.db,
    machines.map((m) => m.id),
    new Date(plane.clock.now()).toISOString(),
  );
}

interface Summary {
  results: { resourceDetails: { complianceState: string; count: number }[] };
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const before = performance.now();
  const value = await work();
  return { ms: performance.now() - before, value };
}

async function runOn(backend: TestBackend): Promise<void> {
  const plane = await TestControlPlane.start(backend);
  try {
    const token = await plane.ownerToken();
    const subscriptionId = plane.installation.subscriptionId;
    const sub = `/subscriptions/${subscriptionId}`;
    const seeding = await timed(() => seed(plane, subscriptionId));
    const assigned = performance.now();
    for (const [i, definition] of POLICIES.entries()) {
      const answer = await plane.request(
        'PUT',
        `${sub}/providers/Microsoft.Authorization/policyAssignments/gc-${i}?${POLICY_V}`,
        {
          token,
          body: {
            properties: {
              policyDefinitionId: `/providers/Microsoft.Authorization/policyDefinitions/${definition}`,
            },
          },
        },
      );
      if (answer.status !== 201 && answer.status !== 200)
        throw new Error(`policy assignment ${i}: ${answer.status} ${JSON.stringify(answer.body)}`);
    }
    const url = `${sub}/providers/Microsoft.PolicyInsights/policyStates/latest/summarize?${INSIGHTS_V}`;
    const call = async () => {
      const answer = await plane.request('POST', url, { token });
      if (answer.status !== 200)
        throw new Error(`summarize: ${answer.status} ${JSON.stringify(answer.body)}`);
      return answer.body;
    };
    // Matching runs in the background: summarize shows each assignment's machines once matched.
    const matched = (body: Record<string, unknown>) => {
      const assignments = (body['value'] as { policyAssignments: Summary[] }[])[0]
        ?.policyAssignments;
      return (
        assignments?.length === POLICIES.length &&
        assignments.every(
          (a) => a.results.resourceDetails.reduce((sum, d) => sum + d.count, 0) === MACHINES,
        )
      );
    };
    let polls = 0;
    while (!matched(await call())) {
      polls++;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const reflected = performance.now() - assigned;
    await simulateReports(plane);
    // The bare GROUP BY: each policy's states counted, over the same rows and the same index.
    const floorQuery = () =>
      sql<{ n: number }>`select policy_assignment_id, reference_id, state, count(*) as n
        from policy_states where subscription_id = ${subscriptionId.toLowerCase()}
        group by policy_assignment_id, reference_id, state`.execute(plane.db);
    for (let i = 0; i < WARMUP; i++) {
      await call();
      await floorQuery();
    }
    // Alternating, so both share whatever else the machine is doing.
    const ours: number[] = [];
    const floor: number[] = [];
    let body: Record<string, unknown> = {};
    let rows = 0;
    for (let i = 0; i < ROUNDS; i++) {
      const a = await timed(call);
      ours.push(a.ms);
      body = a.value;
      const b = await timed(floorQuery);
      floor.push(b.ms);
      rows = b.value.rows.reduce((sum, r) => sum + Number(r.n), 0);
    }
    const summary = (body['value'] as { results: Record<string, unknown> }[])[0]?.results;
    console.log(
      `policy-summarize (${backend.name}): ${MACHINES} machines in ${GROUPS} groups × ${POLICIES.length} guest configuration policy assignments = ${rows} policy states; seeded in ${(seeding.ms / 1000).toFixed(1)} s; ` +
        `summary: ${JSON.stringify(summary?.['resourceDetails'])}, ${String(summary?.['nonCompliantResources'])} non-compliant machines`,
    );
    const p = summarize(ours);
    const f = summarize(floor);
    report(
      `policy-summarize (${backend.name}): POST summarize at subscription scope, in-process through the real app, vs bare SQL GROUP BY (${cpus().length} CPUs, load ${loadavg()[0]?.toFixed(1) ?? '?'})`,
      [
        { metric: 'summarize p50', value: p.p50, unit: 'ms', floor: f.p50, target: '<= 2x floor' },
        { metric: 'summarize p99', value: p.p99, unit: 'ms', floor: f.p99 },
        {
          metric: `assignments created -> summarize reflects ${MACHINES} machines (${polls} polls)`,
          value: reflected,
          unit: 'ms',
        },
      ],
    );
    console.log(
      `p50 target ${p.p50 <= 2 * f.p50 ? 'met' : 'MISSED'} (${(p.p50 / f.p50).toFixed(2)}x)`,
    );
  } finally {
    await plane.close();
  }
}

export async function run(): Promise<void> {
  // SQLite always; PostgreSQL too when TETHER_TEST_POSTGRES_URL names a server.
  for (const backend of testBackends()) await runOn(backend);
}
