// `kill -9` of a SQLite server in the middle of its group commits, under heartbeats from a
// simulated fleet and machine writes through the API: the database opens cleanly
// (integrity_check), every heartbeat and write answered 2xx is there, and the server starts again.
import { Deployment } from '../support/deployment.js';
import { WriteLedger } from '../support/ledger.js';
import { expectNothingLost } from '../support/read-back.js';
import { sleep, Verdict, type FaultOptions } from '../support/verdict.js';

export async function run(options: FaultOptions): Promise<Verdict> {
  const verdict = new Verdict('kill -9 of a SQLite server during group commits');
  const deployment = await Deployment.start({ nodes: 1, database: 'sqlite' });
  try {
    const machines = await deployment.onboard('faults', options.short ? 40 : 400);
    const fleet = await deployment.fleet(machines, false);
    const since = new Date();
    fleet.heartbeats(options.short ? 200 : 1000);
    const admin = await deployment.adminToken();
    const ledger = new WriteLedger(machines, [deployment.api()], admin);
    ledger.start(5);
    await sleep(options.short ? 3000 : 15_000);
    await deployment.kill(0, 'SIGKILL');
    await ledger.stop();
    const stats = await fleet.stats();
    fleet.heartbeats(0);

    const integrity = deployment.integrityCheck();
    verdict.figure('heartbeats answered 200 before the kill', stats.heartbeatsOk);
    verdict.figure('machine writes answered 2xx before the kill', ledger.acknowledged.length);
    verdict.figure('integrity_check', integrity);
    verdict.expect(
      integrity === 'ok',
      `the database opens cleanly (integrity_check: ${integrity})`,
    );
    verdict.expect(stats.heartbeatsOk > 0 && ledger.acknowledged.length > 0, 'load was answered');
    await expectNothingLost(verdict, {
      deployment,
      heartbeats: stats.acknowledgedHeartbeats,
      ledger,
      since,
      between: () => deployment.startNode(0),
      // Read straight after the kill: nothing has folded the log since the load began.
      expectLogged: true,
    });
  } finally {
    await deployment.stop();
  }
  return verdict;
}
