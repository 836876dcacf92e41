// One compiled statement run once per parameter set, all in one transaction: the write of a
// group commit whose members are the same statement (heartbeats). On SQLite the whole batch runs
// synchronously on the one connection while Kysely's hold on that connection keeps every other
// query out: a promise hop per row through Kysely cost more than SQLite's own work for the row.
// Other stores run the batch through a Kysely transaction. `syncTransactionOf` gives SQLite's
// synchronous transaction itself, for a group commit whose members choose among statements.
import type { CompiledQuery, Kysely } from 'kysely';

export type ParameterSet = readonly unknown[];

export interface StatementBatches {
  /** Each parameter set's rows, in order; all committed together or none. */
  run<R>(query: CompiledQuery<R>, parameterSets: readonly ParameterSet[]): Promise<R[][]>;
}

/** Runs one statement on the synchronous connection: its rows (none for a statement without). */
export type SyncStatement = (sql: string, parameters: ParameterSet) => unknown[];

/** Runs `work` synchronously inside one transaction; all its statements commit together or none. */
export type SyncTransactionRunner = <T>(work: (run: SyncStatement) => T) => T;

/** `work` in one synchronous transaction, answered once that transaction is durable. */
export type SyncTransaction = <T>(work: (run: SyncStatement) => T) => Promise<T>;

const runners = new WeakMap<Kysely<never>, SyncTransactionRunner>();

export function registerSyncTransactionRunner<DB>(
  db: Kysely<DB>,
  runner: SyncTransactionRunner,
): void {
  runners.set(db as unknown as Kysely<never>, runner);
}

/** SQLite's synchronous transactions; undefined on stores that have none (PostgreSQL). */
export function syncTransactionOf<DB>(db: Kysely<DB>): SyncTransaction | undefined {
  const sync = runners.get(db as unknown as Kysely<never>);
  if (sync === undefined) return undefined;
  // Kysely's hold on the one connection keeps every other query out while `work` runs, and its
  // release is where a durable store waits for the commit to reach the disk.
  return <T>(work: (run: SyncStatement) => T) =>
    db.connection().execute(() => Promise.resolve(sync(work)));
}

export function statementBatchesOf<DB>(db: Kysely<DB>): StatementBatches {
  const sync = syncTransactionOf(db);
  if (sync === undefined) {
    return {
      run: <R>(query: CompiledQuery<R>, parameterSets: readonly ParameterSet[]) =>
        db.transaction().execute(async (trx) => {
          const out: R[][] = [];
          for (const parameters of parameterSets) {
            const compiled: CompiledQuery<R> = { ...query, parameters };
            out.push((await trx.executeQuery(compiled)).rows);
          }
          return out;
        }),
    };
  }
  return {
    run: <R>(query: CompiledQuery<R>, parameterSets: readonly ParameterSet[]) =>
      sync((run) => parameterSets.map((parameters) => run(query.sql, parameters) as R[])),
  };
}
