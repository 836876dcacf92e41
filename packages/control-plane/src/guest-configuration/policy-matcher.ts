// Matches machines against policy in the background when policy changes: each change asks for
// the machines under its scope, the request is kept in the database until those machines have
// been matched (so a restart picks up where it stopped), and the machines are read and written
// in batches, never on a read of compliance.
import { matchMachines, type MatchedMachine, type PackageCache } from './gc-machine-match.js';
import type { GcServices } from './gc-services.js';
import type { Db } from './gc-store.js';

/** Machines per batch: one query to read them, one transaction to write what they get. */
const BATCH = 500;

const BY_DATABASE = new WeakMap<object, PolicyMatcher>();

export class PolicyMatcher {
  private running: Promise<void> | undefined;
  /** Requests being written to the queue: idle() waits for them too. */
  private readonly queueing = new Set<Promise<void>>();
  private again = false;
  /** The last failure, kept for whoever waits; the request stays queued to be tried again. */
  private failure: unknown;

  private constructor(private readonly services: GcServices) {}

  /** One per database: created with the routes, found by tests and benchmarks. */
  static of(services: GcServices): PolicyMatcher {
    let matcher = BY_DATABASE.get(services.db);
    if (matcher === undefined) {
      matcher = new PolicyMatcher(services);
      BY_DATABASE.set(services.db, matcher);
    }
    return matcher;
  }

  static existing(db: Db): PolicyMatcher | undefined {
    return BY_DATABASE.get(db);
  }

  /** Queues the machines under `scope` (lower-cased; '' or '/' for all) and starts matching. */
  request(scope: string): Promise<void> {
    const queued = this.services.db
      .insertInto('policy_match_requests')
      .values({ scope, requests: 1 })
      .onConflict((oc) =>
        oc
          .column('scope')
          .doUpdateSet((eb) => ({ requests: eb('policy_match_requests.requests', '+', 1) })),
      )
      .execute()
      .then(() => this.start());
    this.queueing.add(queued);
    const settled = () => void this.queueing.delete(queued);
    queued.then(settled, settled);
    return queued;
  }

  /** Works through the queue unless it already is; a request arriving meanwhile runs after. */
  start(): void {
    if (this.running !== undefined) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((error: unknown) => {
        this.failure = error;
      })
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.start();
        }
      });
  }

  /** Resolves once nothing is queued or running; rejects with a failure since the last call. */
  async idle(): Promise<void> {
    while (this.queueing.size > 0 || this.running !== undefined) {
      await Promise.allSettled([...this.queueing]);
      if (this.running !== undefined) await this.running;
    }
    const failure = this.failure;
    this.failure = undefined;
    if (failure !== undefined)
      throw failure instanceof Error
        ? failure
        : new Error('policy matching failed', { cause: failure });
  }

  private async drain(): Promise<void> {
    const { db } = this.services;
    for (;;) {
      const queued = await db
        .selectFrom('policy_match_requests')
        .selectAll()
        .orderBy('scope')
        .execute();
      if (queued.length === 0) return;
      for (const { scope, requests } of queued) {
        await this.matchScope(scope);
        // Asked again while this ran: the row stays, and the next pass matches once more.
        await db
          .deleteFrom('policy_match_requests')
          .where('scope', '=', scope)
          .where('requests', '=', requests)
          .execute();
      }
    }
  }

  private async matchScope(scope: string): Promise<void> {
    const { db, policy } = this.services;
    if (policy === undefined) return;
    const evaluate = await policy.evaluator();
    const packages: PackageCache = new Map();
    const where = scopeFilter(scope);
    let after = '';
    for (;;) {
      let query = db
        .selectFrom('machines as m')
        .leftJoin('machine_agents as a', 'a.machine_id', 'm.id')
        .selectAll('m')
        .select('a.report as agent_report')
        .where('m.id', '>', after);
      if (where.subscriptionId !== undefined)
        query = query.where('m.subscription_id', '=', where.subscriptionId);
      if (where.resourceGroup !== undefined)
        query = query.where('m.resource_group', '=', where.resourceGroup);
      if (where.machineId !== undefined) query = query.where('m.id', '=', where.machineId);
      const machines: MatchedMachine[] = await query.orderBy('m.id').limit(BATCH).execute();
      if (machines.length === 0) return;
      await matchMachines(this.services, machines, evaluate, packages);
      after = machines.at(-1)?.id ?? after;
    }
  }
}

/** The machines a (lower-cased) scope holds: a subscription, a group, a machine or below it. */
function scopeFilter(scope: string): {
  subscriptionId?: string;
  resourceGroup?: string;
  machineId?: string;
} {
  const parts = scope.toLowerCase().split('/');
  if (parts[1] !== 'subscriptions' || parts[2] === undefined || parts[2] === '') return {};
  const subscriptionId = parts[2];
  if (parts[3] !== 'resourcegroups' || parts[4] === undefined) return { subscriptionId };
  const resourceGroup = parts[4];
  if (parts[6] !== 'microsoft.hybridcompute' || parts[7] !== 'machines' || parts[8] === undefined)
    return { subscriptionId, resourceGroup };
  return { subscriptionId, resourceGroup, machineId: parts.slice(0, 9).join('/') };
}

/** Waits for background matching on this database, if any runs; for tests and benchmarks. */
export async function policyMatchingIdle(db: Db): Promise<void> {
  await PolicyMatcher.existing(db)?.idle();
}
