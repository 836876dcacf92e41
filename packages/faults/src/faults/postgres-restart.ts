// PostgreSQL stopped and started again under a simulated fleet and machine writes through two
// nodes: while it is down the nodes answer 503 with Retry-After (nothing else, no crash), they
// recover by themselves once it is back, and everything answered 2xx is found afterwards.
import { Deployment } from '../support/deployment.js';
import { WriteLedger } from '../support/ledger.js';
import { expectNothingLost } from '../support/read-back.js';
import { sleep, Verdict, waitFor, type FaultOptions } from '../support/verdict.js';

export async function run(options: FaultOptions): Promise<Verdict> {
  const verdict = new Verdict('PostgreSQL restarted under load');
  const deployment = await Deployment.start({ nodes: 2, database: 'postgres' });
  const postgres = deployment.postgres;
  if (postgres === undefined) throw new Error('no PostgreSQL');
  try {
    const machines = await deployment.onboard('faults', options.short ? 40 : 400);
    const fleet = await deployment.fleet(machines, true);
    const since = new Date();
    fleet.heartbeats(options.short ? 1000 : 5000);
    const admin = await deployment.adminToken();
    const ledger = new WriteLedger(
      machines,
      [0, 1].map((i) => deployment.api(i)),
      admin,
    );
    ledger.start(10);
    await sleep(options.short ? 2000 : 10_000);

    const before = await fleet.stats(true);
    await postgres.stop('fast');
    const stoppedAt = Date.now();
    await sleep(options.short ? 3000 : 15_000);
    const down = await fleet.stats(true);
    await postgres.start();
    const startedAt = Date.now();
    // Recovered: heartbeats and writes answered 2xx again by both nodes.
    const writesBefore = ledger.acknowledged.length;
    const recovered = await waitFor(async () => {
      const now = await fleet.stats();
      return now.heartbeatsOk > 0 && ledger.acknowledged.length > writesBefore + 4;
    }, 30_000);
    const recoveredMs = Date.now() - startedAt;
    await sleep(1000);
    await ledger.stop();
    const after = await fleet.stats();
    fleet.heartbeats(0);

    const downFailures = { ...down.heartbeatFailures };
    const statuses = new Set([
      ...Object.keys(down.heartbeatFailures),
      ...Object.keys(down.pollFailures),
      ...Object.keys(ledger.refused),
    ]);
    verdict.figure('heartbeats answered 200 before the stop', before.heartbeatsOk);
    verdict.figure(
      `answers while PostgreSQL was down (${((startedAt - stoppedAt) / 1000).toFixed(0)} s)`,
      `heartbeats ${JSON.stringify(downFailures)}, polls ${JSON.stringify(down.pollFailures)}, writes ${JSON.stringify(ledger.refused)}`,
    );
    verdict.figure(
      'Retry-After seen',
      [...new Set([...down.retryAfter, ...ledger.retryAfter])].join(', '),
    );
    verdict.figure('recovered after the start', `${recoveredMs} ms`);
    verdict.figure('heartbeats answered 200 after the start', after.heartbeatsOk);
    verdict.figure('machine writes answered 2xx', ledger.acknowledged.length);
    verdict.expect(
      [...statuses].every((s) => s === '503'),
      `while PostgreSQL is down every answer is 503 (saw ${[...statuses].join(', ')})`,
    );
    verdict.expect(
      (downFailures['503'] ?? 0) > 0,
      'heartbeats were answered 503 while it was down',
    );
    verdict.expect(
      down.retryAfter.length > 0 && down.retryAfter.every((r) => /^\d+$/.test(r)),
      `every 503 says Retry-After (${down.retryAfter.slice(0, 3).join(', ')})`,
    );
    verdict.expect(
      deployment.nodes.every(
        (n) => n !== undefined && n.child.exitCode === null && n.child.signalCode === null,
      ),
      'no node crashed',
    );
    verdict.expect(recovered, 'the nodes recover by themselves within 30 s');

    await expectNothingLost(verdict, {
      deployment,
      heartbeats: after.acknowledgedHeartbeats,
      ledger,
      since,
    });
  } finally {
    await deployment.stop();
  }
  return verdict;
}
