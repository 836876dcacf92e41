// The policy cache part of an agent away: a real agent (azcmagent connect, HIMDS and the guest
// configuration service) reaches the control plane through a link the fault cuts. Away, the
// service goes on evaluating from its cached assignments and queues its reports; once its clock
// has moved past the 14 days the cache is trusted for, it stops evaluating and says why; on its
// return the queued reports arrive, the assignments are fetched afresh (one made while it was
// away included) and compliance is reported again — each checked through the control plane's
// API. The service's clock is moved by the test program test-support/gc-service-shifted-clock.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readServiceStatus } from '@tether/agent/himds/service-status';
import { agentPaths } from '@tether/agent/paths';
import { connectAgent, type ConnectedAgent } from '@tether/e2e/dist/harness/connected-agent.js';
import { AdminClient } from '@tether/e2e/dist/harness/admin-client.js';
import { freePort } from '@tether/e2e/dist/harness/free-port.js';
import { makePublisherKey } from '@tether/e2e/dist/harness/extension-publisher.js';
import {
  builtInConfigurations,
  publishGuestConfiguration,
} from '@tether/e2e/dist/harness/guest-configuration-publisher.js';
import {
  startControlPlane,
  type ControlPlane,
} from '@tether/e2e/dist/harness/start-control-plane.js';
import { seedServerFiles } from '@tether/e2e/dist/guest-configuration/fake-server-files.js';
import { CuttableLink } from '../support/cuttable-link.js';
import { sleep, waitFor, type Verdict } from '../support/verdict.js';

const DAY_MS = 24 * 3_600_000;
const GROUP = 'away';
const PUBLISHER = 'Contoso.Baselines';
const GC_API = 'api-version=2024-04-05';
/** The baseline fails on a world-readable sshd_config (rule 5.2.1) and passes at 0600. */
const SSHD_CONFIG = 'etc/ssh/sshd_config';
const SHIFTED_GC = fileURLToPath(
  import.meta.resolve('@tether/agent/test-support/gc-service-shifted-clock'),
);

interface GcReport {
  readonly complianceStatus: string;
  readonly endTime: string;
  readonly operationType?: string;
}

export async function checkPolicyCache(verdict: Verdict): Promise<void> {
  if (process.geteuid?.() !== 0) {
    verdict.figure('policy cache part', 'not run: azcmagent connect needs root');
    return;
  }
  const scratch = await mkdtemp(join(tmpdir(), 'tether-faults-gc-'));
  const link = await CuttableLink.start();
  let plane: ControlPlane | undefined;
  let agent: ConnectedAgent | undefined;
  let gc: ChildProcess | undefined;
  let gcExited: Promise<unknown> = Promise.resolve();
  let logs = '';
  try {
    const port = await freePort();
    link.target = port;
    plane = await startControlPlane({ port, serverArgs: ['--public-url', link.url] });
    // The operator reaches the control plane directly, cut or not; the agent only through the link.
    const admin = new AdminClient(
      `https://127.0.0.1:${port}`,
      plane.caCert,
      plane.tenantId,
      plane.appId,
      plane.password,
    );
    const key = await makePublisherKey(plane, join(scratch, 'publisher'));
    for (const ref of builtInConfigurations())
      await publishGuestConfiguration(plane, key, PUBLISHER, ref);
    const group = await admin.call(
      'PUT',
      `/subscriptions/${plane.subscriptionId}/resourceGroups/${GROUP}?api-version=2021-04-01`,
      { body: { location: 'westeurope' } },
    );
    if (group.status >= 300) throw new Error(`resource group: ${JSON.stringify(group.body)}`);

    // The agent knows the control plane by its public URL: the link's address.
    agent = await connectAgent(
      { ...plane, url: link.url },
      { resourceGroup: GROUP, name: 'away-01' },
    );
    const root = agent.root;
    const paths = agentPaths(root);
    seedServerFiles(root, { [SSHD_CONFIG]: 0o644 });
    const trusted = await agent.run([
      'extension',
      'trust',
      '--publisher',
      PUBLISHER,
      '--key',
      key.publicKeyFile,
    ]);
    if (trusted.status !== 0) throw new Error(`extension trust: ${trusted.stderr}`);
    await agent.startHimds();
    const offsetFile = join(scratch, 'clock-offset');
    const shift = (ms: number): void => {
      writeFileSync(`${offsetFile}.new`, String(ms));
      renameSync(`${offsetFile}.new`, offsetFile);
    };
    gc = spawn(process.execPath, [SHIFTED_GC, offsetFile], {
      env: { PATH: process.env.PATH, AZCMAGENT_ROOT: root, AZCMAGENT_GC_FREQUENCY_SECONDS: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const child = gc;
    gcExited = new Promise((resolve) => child.once('exit', resolve));
    gc.stderr?.setEncoding('utf8').on('data', (chunk: string) => (logs += chunk));
    let ready = false;
    gc.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      ready ||= chunk.includes('guest configuration service running');
    });
    if (!(await waitFor(() => Promise.resolve(ready), 30_000)))
      throw new Error(`the guest configuration service did not start: ${logs}`);

    const assignmentPath = (name: string): string =>
      `${agent?.machinePath ?? ''}/providers/Microsoft.GuestConfiguration/guestConfigurationAssignments/${name}`;
    const assign = async (name: string): Promise<number> =>
      (
        await admin.call('PUT', `${assignmentPath(name)}?${GC_API}`, {
          body: { properties: { guestConfiguration: { name, version: '1.0.0' } } },
        })
      ).status;
    const reports = async (name: string): Promise<GcReport[]> => {
      const answer = await admin.call('GET', `${assignmentPath(name)}/reports?${GC_API}`);
      const value = (answer.body['value'] ?? []) as { properties: { details: GcReport } }[];
      return value.map((r) => r.properties.details);
    };
    const assignment = async (
      name: string,
    ): Promise<{ complianceStatus?: string; lastComplianceStatusChecked?: string | null }> =>
      (await admin.call('GET', `${assignmentPath(name)}?${GC_API}`)).body['properties'] ?? {};
    const evaluations = (): number =>
      readFileSync(paths.guestConfigServiceLog, 'utf8').match(/AzureLinuxBaseline: \w+ \(/g)
        ?.length ?? 0;

    // Connected: the baseline is reported NonCompliant.
    verdict.expect((await assign('AzureLinuxBaseline')) === 201, 'the baseline is assigned');
    const reported = await waitFor(
      async () => (await assignment('AzureLinuxBaseline')).complianceStatus === 'NonCompliant',
      30_000,
    );
    verdict.expect(reported, 'the baseline is reported NonCompliant while the agent is connected');
    const before = await assignment('AzureLinuxBaseline');

    // Away for a day: the service evaluates from its cache; what it reports waits on disk.
    link.cut();
    const cutAt = Date.now();
    shift(DAY_MS);
    chmodSync(join(root, SSHD_CONFIG), 0o600);
    const evaluatedAway = await waitFor(
      () => Promise.resolve(/AzureLinuxBaseline: Compliant \(Consistency\)/.test(logs)),
      15_000,
    );
    const queued = readdirSync(paths.guestConfigOutboxDir).length;
    verdict.figure('reports queued on disk after a day away', queued);
    verdict.expect(
      evaluatedAway && queued > 0,
      'a day away, the cached assignment is still evaluated (Compliant) and its report kept on disk',
    );
    verdict.expect(
      (await assignment('AzureLinuxBaseline')).lastComplianceStatusChecked ===
        before.lastComplianceStatusChecked,
      "while the agent is away, the control plane shows the last report it received and that report's time",
    );
    // Meanwhile the control plane assigns another configuration.
    verdict.expect(
      (await assign('LinuxNoPasswordForSSH')) === 201,
      'an assignment made while the agent is away is taken',
    );

    // Away past the cache's 14 days: evaluation stops, and the service says why.
    shift(15 * DAY_MS);
    const stopped = await waitFor(
      () =>
        Promise.resolve(
          /has not been reached since/.test(
            readServiceStatus(paths.serviceStatus('gc'))?.detail ?? '',
          ),
        ),
      15_000,
    );
    const show = await agent.run(['show']);
    verdict.expect(
      stopped && /cached assignments are used for 14 days at most/.test(show.stdout),
      `past 14 days away, evaluation stops and azcmagent show says why: ${show.stdout.slice(0, 600)}`,
    );
    chmodSync(join(root, SSHD_CONFIG), 0o644);
    const evaluationsStopped = evaluations();
    await sleep(3_000);
    verdict.expect(
      evaluations() === evaluationsStopped,
      'past 14 days away, the cached assignment is not evaluated any more (a drift goes unreported until contact)',
    );
    verdict.figure('away (real time; the service clock moved 15 days)', `${Date.now() - cutAt} ms`);

    // Back: queued reports arrive, the assignments are fetched afresh and reported again.
    const returnedAt = Date.now() + 15 * DAY_MS;
    link.restore();
    const restoredAt = Date.now();
    const caughtUp = await waitFor(async () => {
      const baseline = await assignment('AzureLinuxBaseline');
      const other = await assignment('LinuxNoPasswordForSSH');
      return (
        baseline.complianceStatus === 'NonCompliant' &&
        Date.parse(baseline.lastComplianceStatusChecked ?? '') >= returnedAt &&
        other.lastComplianceStatusChecked !== null &&
        other.complianceStatus !== 'Pending'
      );
    }, 90_000);
    verdict.figure('caught up after the return', `${Date.now() - restoredAt} ms`);
    verdict.expect(
      caughtUp,
      'on return the baseline is reported NonCompliant again, dated after the return, and the assignment made meanwhile is evaluated and reported',
    );
    const history = await reports('AzureLinuxBaseline');
    const awayReports = history.filter(
      (r) =>
        r.complianceStatus === 'Compliant' &&
        Date.parse(r.endTime) >= cutAt + DAY_MS &&
        Date.parse(r.endTime) < returnedAt,
    );
    verdict.figure(
      'baseline reports on record (connected / away / after return)',
      `${history.filter((r) => Date.parse(r.endTime) < cutAt).length} / ${awayReports.length} / ${history.filter((r) => Date.parse(r.endTime) >= returnedAt).length}`,
    );
    verdict.expect(
      awayReports.length > 0,
      'the Compliant report made a day into the absence reached the control plane, with its own time',
    );
    verdict.expect(
      (readServiceStatus(paths.serviceStatus('gc'))?.detail ?? '') === '',
      'after the return the service no longer says evaluation is stopped',
    );
  } catch (error) {
    verdict.expect(
      false,
      `the policy cache part ran to its end: ${(error as Error).stack ?? String(error)}`,
    );
    if (logs !== '') console.error(logs.slice(-4000));
  } finally {
    gc?.kill('SIGTERM');
    await gcExited;
    await agent?.stop();
    await plane?.stop();
    await link.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}
