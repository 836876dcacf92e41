// A node of two workers whose second never says it serves, for the start-deadline test:
// `node silent-worker.js DEADLINE_MS`. The primary is the real supervisor; worker 1 reports
// ready at once, worker 2 stays alive and silent, as one hung opening its database would.
import cluster from 'node:cluster';
import { jsonLog } from '../json-log.js';
import { reportReady, superviseWorkers, workerNumber } from '../server-workers.js';

if (cluster.isPrimary) {
  const deadlineMs = Number(process.argv[2]);
  try {
    await superviseWorkers(
      2,
      jsonLog('info'),
      () => process.stdout.write('announced\n'),
      deadlineMs,
    );
    process.stdout.write('stopped\n');
  } catch (error) {
    process.stdout.write(`failed: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
} else if (workerNumber() === 1) {
  reportReady({ url: 'https://127.0.0.1:1', portalUrl: undefined });
  process.on('SIGTERM', () => process.exit(0));
  setInterval(() => undefined, 60_000);
} else {
  setInterval(() => undefined, 60_000);
}
