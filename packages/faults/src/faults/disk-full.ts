// The data disk full: a SQLite server whose data directory is a small tmpfs, under heartbeats and
// machine writes, while a file fills the rest of it. Writes fail with a clear error (not a bare
// 500) and nothing else breaks; once the file is removed the server takes writes again by itself;
// the database is intact and holds everything answered 2xx. Needs root (mount).
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, rmdirSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Deployment } from '../support/deployment.js';
import { WriteLedger } from '../support/ledger.js';
import { expectNothingLost } from '../support/read-back.js';
import { sleep, Verdict, waitFor, type FaultOptions } from '../support/verdict.js';

const SIZE = '24m';

export async function run(options: FaultOptions): Promise<Verdict> {
  const verdict = new Verdict('the data disk full');
  const mountPoint = mkdtempSync(join(tmpdir(), 'tether-faults-disk-'));
  execFileSync('mount', [
    '-t',
    'tmpfs',
    '-o',
    `size=${SIZE},mode=0700`,
    'tether-faults',
    mountPoint,
  ]);
  try {
    const deployment = await Deployment.start({
      nodes: 1,
      database: 'sqlite',
      dataDir: join(mountPoint, 'data'),
    });
    try {
      await exercise(deployment, mountPoint, options, verdict);
    } finally {
      await deployment.stop();
    }
  } finally {
    execFileSync('umount', [mountPoint]);
    rmdirSync(mountPoint);
  }
  return verdict;
}

async function exercise(
  deployment: Deployment,
  mountPoint: string,
  options: FaultOptions,
  verdict: Verdict,
): Promise<void> {
  const machines = await deployment.onboard('faults', options.short ? 30 : 200);
  const fleet = await deployment.fleet(machines, false);
  const since = new Date();
  fleet.heartbeats(options.short ? 500 : 2000);
  const admin = await deployment.adminToken();
  const ledger = new WriteLedger(machines, [deployment.api()], admin);
  // Large writes, so that the database's write-ahead log must grow while the disk is full.
  ledger.start(5, 40);
  await sleep(2000);

  await fleet.stats(true);
  const writesBefore = ledger.acknowledged.length;
  const refusedBefore = { ...ledger.refused };
  const filler = join(mountPoint, 'filler');
  fill(filler);
  await sleep(options.short ? 4000 : 15_000);
  const full = await fleet.stats(true);
  const writesWhileFull = ledger.acknowledged.length - writesBefore;
  const refusedWhileFull = difference(ledger.refused, refusedBefore);
  rmSync(filler);
  const freedAt = Date.now();
  const writesAtFree = ledger.acknowledged.length;
  const recovered = await waitFor(async () => {
    const now = await fleet.stats();
    return now.heartbeatsOk > 0 && ledger.acknowledged.length > writesAtFree + 4;
  }, 30_000);
  const recoveredMs = Date.now() - freedAt;
  await ledger.stop();
  const after = await fleet.stats();
  fleet.heartbeats(0);

  verdict.figure(
    'answers while the disk was full',
    `heartbeats 200: ${full.heartbeatsOk}, other ${JSON.stringify(full.heartbeatFailures)}; writes 2xx: ${writesWhileFull}, other ${JSON.stringify(refusedWhileFull)}`,
  );
  verdict.figure('first refusals', full.failureSamples.slice(0, 2).join(' | '));
  verdict.figure('recovered after space returned', `${recoveredMs} ms`);
  const statuses = Object.keys(full.heartbeatFailures).concat(Object.keys(refusedWhileFull));
  verdict.expect(statuses.length > 0, 'writes were refused while the disk was full');
  verdict.expect(
    statuses.every((s) => s === '507'),
    `a full disk is answered 507 Insufficient Storage, nothing else (saw ${statuses.join(', ')})`,
  );
  verdict.expect(
    full.failureSamples.every((s) => /disk|space|storage/i.test(s)),
    `the error says the disk is full (${full.failureSamples[0] ?? 'no refusal'})`,
  );
  verdict.expect(
    deployment.nodes[0]?.child.exitCode === null && deployment.nodes[0].child.signalCode === null,
    'the server did not crash',
  );
  verdict.expect(recovered, 'writes are taken again once space returns, within 30 s');

  await deployment.kill(0, 'SIGTERM');
  const integrity = deployment.integrityCheck();
  verdict.figure('integrity_check', integrity);
  verdict.expect(integrity === 'ok', `the database is intact (integrity_check: ${integrity})`);
  await expectNothingLost(verdict, {
    deployment,
    heartbeats: after.acknowledgedHeartbeats,
    ledger,
    since,
    between: () => deployment.startNode(0),
  });
}

/** Writes `file` until the file system has no room left. */
function fill(file: string): void {
  const fd = openSync(file, 'w');
  try {
    // Large writes first, then ever smaller ones for the last partial blocks.
    for (const size of [256 * 1024, 4096, 512]) {
      const chunk = Buffer.alloc(size, 1);
      for (;;) {
        try {
          writeSync(fd, chunk);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw error;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}

function difference(
  now: Record<string, number>,
  before: Record<string, number>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, n] of Object.entries(now))
    if (n - (before[key] ?? 0) > 0) out[key] = n - (before[key] ?? 0);
  return out;
}
