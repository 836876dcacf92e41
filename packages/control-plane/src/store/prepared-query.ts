// A query built and compiled by Kysely once per dialect, then run with new values: on the hot
// paths (an extension write, a goal-state poll) building and compiling each small lookup cost
// more than the database's own work for it. The query is built with a placeholder for each
// argument; its compiled parameters are then the placeholders and constants in order, and a run
// puts the arguments where the placeholders were. Works the same inside a transaction.
import type { Compilable, CompiledQuery, Kysely, QueryResult } from 'kysely';

type Db<DB> = Pick<Kysely<DB>, 'executeQuery' | 'getExecutor'>;

interface Compiled<R> {
  query: CompiledQuery<R>;
  /** Per compiled parameter: the argument it takes, or -1 for a constant of the query. */
  slots: number[];
}

/** A placeholder no argument can equal by chance. */
const placeholder = (i: number): string => `\u0000tether-prepared-argument-${i}\u0000`;

export interface PreparedQuery<A extends readonly unknown[], R> {
  /** Rows and counts of one run with `args`. */
  run(db: Db<unknown>, ...args: A): Promise<QueryResult<R>>;
  rows(db: Db<unknown>, ...args: A): Promise<R[]>;
  first(db: Db<unknown>, ...args: A): Promise<R | undefined>;
}

/**
 * `build` gets one stand-in per argument and must pass each, untouched, where a value goes (a
 * stand-in it transforms or drops is an error at first use). Arguments are strings or numbers.
 */
export function preparedQuery<DB, A extends readonly (string | number | null)[], R>(
  arity: A['length'],
  build: (db: Kysely<DB>, ...args: A) => Compilable<R>,
): PreparedQuery<A, R> {
  // Keyed by the dialect's adapter: a database and its transactions share it.
  const cache = new WeakMap<object, Compiled<R>>();
  const compiledFor = (db: Db<unknown>): Compiled<R> => {
    const key = db.getExecutor().adapter;
    let compiled = cache.get(key);
    if (compiled === undefined) {
      const stand = Array.from({ length: arity }, (_, i) => placeholder(i)) as unknown as A;
      const query = build(db as unknown as Kysely<DB>, ...stand).compile();
      const slots = query.parameters.map((p) =>
        typeof p === 'string' ? stand.indexOf(p as A[number]) : -1,
      );
      for (let i = 0; i < arity; i++) {
        if (!slots.includes(i)) {
          throw new Error(`prepared query: argument ${i} is not a parameter of ${query.sql}`);
        }
      }
      compiled = { query, slots };
      cache.set(key, compiled);
    }
    return compiled;
  };
  const run = (db: Db<unknown>, ...args: A): Promise<QueryResult<R>> => {
    const { query, slots } = compiledFor(db);
    const parameters = slots.map((slot, i) => (slot < 0 ? query.parameters[i] : args[slot]));
    return db.executeQuery<R>({ ...query, parameters });
  };
  return {
    run,
    rows: async (db, ...args) => (await run(db, ...args)).rows,
    first: async (db, ...args) => (await run(db, ...args)).rows[0],
  };
}
