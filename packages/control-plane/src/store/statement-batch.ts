// One compiled statement run once per parameter set, all in one transaction: the write of a
// group commit whose members are the same statement (heartbeats). On SQLite the whole batch runs
// synchronously on the one connection while Kysely's hold on that connection keeps every other
// query out: a promise hop per row through Kysely cost more than SQLite's own work for the row.
// Other stores run the batch through a Kysely transaction.
import type { CompiledQuery, Kysely } from 'kysely';

export type ParameterSet = readonly unknown[];

export interface StatementBatches {
  /** Each parameter set's rows, in order; all committed together or none. */
  run<R>(query: CompiledQuery<R>, parameterSets: readonly ParameterSet[]): Promise<R[][]>;
}

/** Runs a batch on a synchronous connection inside one transaction. */
export type SyncBatchRunner = (sql: string, parameterSets: readonly ParameterSet[]) => unknown[][];

const runners = new WeakMap<Kysely<never>, SyncBatchRunner>();

export function registerSyncBatchRunner<DB>(db: Kysely<DB>, runner: SyncBatchRunner): void {
  runners.set(db as unknown as Kysely<never>, runner);
}

export function statementBatchesOf<DB>(db: Kysely<DB>): StatementBatches {
  const sync = runners.get(db as unknown as Kysely<never>);
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
      db.connection().execute(() => Promise.resolve(sync(query.sql, parameterSets) as R[][])),
  };
}
