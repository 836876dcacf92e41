// "Who can run code as root" over a fleet of 10,000 machines: walking every page of the fleet
// view (each machine's doors from its last report, crossed with the role holders above it) and
// one machine's full report, in-process through the real app, beside the plain machine list and
// machine GET over the same rows in the same run (the floor: the same paging without the report).
import { cpus, loadavg } from 'node:os';
import { randomUUID } from 'node:crypto';
import { TestControlPlane } from '@tether/control-plane/server/testing/test-control-plane';
import { testBackends, type TestBackend } from '@tether/control-plane/store/testing/test-databases';
import { seedMachines } from '../fixtures/seed-machines.js';
import { report, summarize } from '../stats.js';

const MACHINES = 10_000;
const GROUPS = 20;
const PRINCIPALS = 40;
const ROUNDS = 5;
const MACHINE_V = 'api-version=2024-07-10';
const ROOT_V = 'api-version=2026-11-01';
const CONTRIBUTOR = 'b24988ac-6180-42a0-ab88-20f7382dd24c';
const MACHINE_ADMIN = 'cd570a14-e51a-42ad-bac8-bafd67325302';
const AMA = { publisher: 'Microsoft.Azure.Monitor', type: 'AzureMonitorLinuxAgent' };
const SCRIPT = { publisher: 'Microsoft.Azure.Extensions', type: 'CustomScript' };

/** A heartbeat's agentConfiguration: a mix of open, narrowed and locked-down machines. */
function configuration(i: number): Record<string, unknown> {
  const kind = i % 4;
  return {
    extensionsAllowList: kind === 0 ? [] : kind === 1 ? [AMA] : [AMA, SCRIPT],
    extensionsBlockList: kind === 2 ? [SCRIPT] : [],
    extensionsEnabled: kind === 3 ? 'false' : 'true',
    guestConfigurationEnabled: i % 8 < 4 ? 'true' : 'false',
    configMode: 'full',
    proxyUrl: '',
    proxyBypass: [],
    incomingConnectionsPorts: [],
    incomingConnectionsEnabled: 'true',
  };
}

async function seed(plane: TestControlPlane, subscriptionId: string): Promise<void> {
  await seedMachines(plane.db, subscriptionId, {
    machines: MACHINES,
    groups: GROUPS,
    now: plane.clock.now(),
    properties: () => ({ osName: 'ubuntu', osType: 'linux' }),
    report: (i) => JSON.stringify({ agentVersion: '1.40.0', agentConfiguration: configuration(i) }),
  });
}

/** Service principals with Contributor or Connected Machine Resource Administrator on groups. */
async function grant(plane: TestControlPlane, token: string, sub: string): Promise<void> {
  for (let p = 0; p < PRINCIPALS; p++) {
    const created = await plane.request('POST', '/v1.0/servicePrincipals', {
      token,
      body: { displayName: `deploy-${p}` },
    });
    if (created.status !== 201) throw new Error(`principal: ${JSON.stringify(created.body)}`);
    const role = p % 2 === 0 ? CONTRIBUTOR : MACHINE_ADMIN;
    const scope = `${sub}/resourceGroups/rg-${p % GROUPS}`;
    const assigned = await plane.request(
      'PUT',
      `${scope}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?api-version=2022-04-01`,
      {
        token,
        body: {
          properties: {
            roleDefinitionId: `${sub}/providers/Microsoft.Authorization/roleDefinitions/${role}`,
            principalId: String(created.body['id']),
            principalType: 'ServicePrincipal',
          },
        },
      },
    );
    if (assigned.status !== 201) throw new Error(`assignment: ${JSON.stringify(assigned.body)}`);
  }
}

/** Follows nextLink from `first` to the end; returns the items seen and the pages. */
async function walk(
  plane: TestControlPlane,
  token: string,
  first: string,
): Promise<{ items: Record<string, unknown>[]; pages: number }> {
  const items: Record<string, unknown>[] = [];
  let pages = 0;
  let url: string | undefined = first;
  while (url !== undefined) {
    const answer = await plane.request('GET', url, { token });
    if (answer.status !== 200) throw new Error(`${url}: ${answer.status}`);
    items.push(...(answer.body['value'] as Record<string, unknown>[]));
    const next = answer.body['nextLink'] as string | undefined;
    url = next === undefined ? undefined : next.slice(next.indexOf('/subscriptions/'));
    pages++;
  }
  return { items, pages };
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
    await seed(plane, subscriptionId);
    await grant(plane, token, sub);
    const fleetUrl = `${sub}/providers/Tether.Authorization/rootAccess?${ROOT_V}`;
    const listUrl = `${sub}/providers/Microsoft.HybridCompute/machines?${MACHINE_V}`;
    const one = `${sub}/resourceGroups/rg-1/providers/Microsoft.HybridCompute/machines/node-1`;
    // Warm both paths once.
    await walk(plane, token, fleetUrl);
    await walk(plane, token, listUrl);
    const fleet: number[] = [];
    const list: number[] = [];
    let rows: Record<string, unknown>[] = [];
    let pages = 0;
    for (let i = 0; i < ROUNDS; i++) {
      const a = await timed(() => walk(plane, token, fleetUrl));
      fleet.push(a.ms);
      rows = a.value.items;
      pages = a.value.pages;
      list.push((await timed(() => walk(plane, token, listUrl))).ms);
    }
    const single: number[] = [];
    const get: number[] = [];
    for (let i = 0; i < 200; i++) {
      single.push(
        (
          await timed(() =>
            plane.request('GET', `${one}/providers/Tether.Authorization/rootAccess?${ROOT_V}`, {
              token,
            }),
          )
        ).ms,
      );
      get.push((await timed(() => plane.request('GET', `${one}?${MACHINE_V}`, { token }))).ms);
    }
    if (rows.length !== MACHINES) throw new Error(`fleet view listed ${rows.length} machines`);
    const nobody = rows.filter((r) => r['nobody'] === true).length;
    console.log(
      `root-access (${backend.name}): ${MACHINES} machines in ${GROUPS} groups, ${PRINCIPALS} principals with roles on groups (+ the Owner); ${pages} pages; ${nobody} machines where nobody can run code as root through Tether`,
    );
    const f = summarize(fleet);
    const l = summarize(list);
    const s = summarize(single);
    const g = summarize(get);
    report(
      `root-access (${backend.name}): in-process through the real app, beside the machine list and GET over the same rows (${cpus().length} CPUs, load ${loadavg()[0]?.toFixed(1) ?? '?'})`,
      [
        {
          metric: `fleet view, all ${pages} pages (p50 of ${ROUNDS})`,
          value: f.p50,
          unit: 'ms',
          floor: l.p50,
          target: '<= 2x floor',
        },
        { metric: 'one machine report p50', value: s.p50, unit: 'ms', floor: g.p50 },
        { metric: 'one machine report p99', value: s.p99, unit: 'ms', floor: g.p99 },
      ],
    );
    console.log(
      `fleet walk target ${f.p50 <= 2 * l.p50 ? 'met' : 'MISSED'} (${(f.p50 / l.p50).toFixed(2)}x)`,
    );
  } finally {
    await plane.close();
  }
}

export async function run(): Promise<void> {
  for (const backend of testBackends()) await runOn(backend);
}
