// What a fuzz target is: a parser that takes outside input, the inputs to try, and the rule for
// which failures are findings (anything but the module's own documented error, or a 5xx).
import type { Arbitrary } from 'fast-check';

/** One prepared target: `check` returns a finding's description, or undefined when all is well. */
export interface OpenTarget<T> {
  readonly arbitrary: Arbitrary<T>;
  readonly check: (input: T) => Promise<string | undefined> | string | undefined;
  readonly close?: () => Promise<void>;
}

export interface FuzzTarget {
  readonly name: string;
  /** The parser under test, as a user of the report would look for it. */
  readonly parser: string;
  /** Why the default long-run count differs from the usual one, if it does. */
  readonly defaultRuns?: { readonly runs: number; readonly why: string };
  readonly open: () => Promise<OpenTarget<unknown>>;
}

/** Declares a target; erases the input type so targets of every kind sit in one list. */
export function fuzzTarget<T>(
  name: string,
  parser: string,
  open: () => Promise<OpenTarget<T>> | OpenTarget<T>,
  defaultRuns?: FuzzTarget['defaultRuns'],
): FuzzTarget {
  return {
    name,
    parser,
    ...(defaultRuns === undefined ? {} : { defaultRuns }),
    open: async () => (await open()) as OpenTarget<unknown>,
  };
}
