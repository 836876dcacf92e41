// The check every fault ends with: each heartbeat and machine write answered 2xx, read back.
import type { Deployment } from './deployment.js';
import type { WriteLedger } from './ledger.js';
import { lostHeartbeats, type Verdict } from './verdict.js';

export interface ReadBack {
  readonly deployment: Deployment;
  /** Latest acknowledged heartbeat per machine (when it was sent). */
  readonly heartbeats: ReadonlyMap<string, number>;
  readonly ledger: WriteLedger;
  /** When the writes began: the activity log is read from then. */
  readonly since: Date;
  /**
   * Run between reading the database and reading through the API: a SQLite server must be
   * down for the first (it holds its file exclusively) and up for the second.
   */
  readonly between?: () => Promise<unknown>;
  /** The database is read before anything folded the log: some heartbeats must be there. */
  readonly expectLogged?: boolean;
}

export async function expectNothingLost(verdict: Verdict, readBack: ReadBack): Promise<void> {
  const { deployment, ledger } = readBack;
  const onRecord = await deployment.heartbeatsOnRecord();
  const lost = lostHeartbeats(readBack.heartbeats, onRecord.at);
  // Heartbeats that repeat a machine's report are kept in the liveness log until its fold: the
  // read covers both places, and this says how many were read from the log.
  verdict.figure(
    'machines whose last heartbeat is on record in the liveness log',
    onRecord.onlyInLog,
  );
  if (readBack.expectLogged === true) {
    verdict.expect(
      onRecord.onlyInLog > 0,
      'heartbeats repeating their report were kept in the liveness log, and are read back from it',
    );
  }
  verdict.figure('acknowledged heartbeats lost', lost.length);
  verdict.expect(
    lost.length === 0,
    `no acknowledged heartbeat is lost: ${lost.slice(0, 3).join('; ')}`,
  );
  await readBack.between?.();
  const live = deployment.nodes.findIndex((n) => n !== undefined);
  const missing = await ledger.missing(
    deployment.api(Math.max(0, live)),
    deployment.subscriptionId,
    readBack.since,
  );
  verdict.figure('acknowledged writes or activity entries lost', missing.length);
  verdict.expect(
    missing.length === 0,
    `no acknowledged write is lost: ${missing.slice(0, 3).join('; ')}`,
  );
}
