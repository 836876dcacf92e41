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
}

export async function expectNothingLost(verdict: Verdict, readBack: ReadBack): Promise<void> {
  const { deployment, ledger } = readBack;
  const lost = lostHeartbeats(readBack.heartbeats, await deployment.heartbeatsOnRecord());
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
