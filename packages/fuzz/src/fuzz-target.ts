// What a fuzz target is: a parser that takes outside input, the inputs to try, and the rule for
// which failures are findings (anything but the module's own documented error, or a 5xx).
import type { Arbitrary } from 'fast-check';

/** One prepared target: `check` returns a finding's description, or undefined when all is well. */
export interface OpenTarget<T> {
  readonly arbitrary: Arbitrary<T>;
  readonly check: (input: T) => Promise<string | undefined> | string | undefined;
  readonly close?: () => Promise<void>;
  /** How often each kind of answer came back (an HTTP status and error code, say). */
  readonly outcomes?: () => ReadonlyMap<string, number>;
}

/**
 * For a target too slow for a million inputs in reasonable time: how long the long run may take,
 * and why the inputs sent by then still cover its input space (printed when the run stops early).
 */
export interface RunBudget {
  readonly minutes: number;
  readonly covers: string;
}

export interface FuzzTarget {
  readonly name: string;
  /** The parser under test, as a user of the report would look for it. */
  readonly parser: string;
  readonly budget?: RunBudget;
  readonly open: () => Promise<OpenTarget<unknown>>;
}

/** Declares a target; erases the input type so targets of every kind sit in one list. */
export function fuzzTarget<T>(
  name: string,
  parser: string,
  open: () => Promise<OpenTarget<T>> | OpenTarget<T>,
  budget?: RunBudget,
): FuzzTarget {
  return {
    name,
    parser,
    ...(budget === undefined ? {} : { budget }),
    open: async () => (await open()) as OpenTarget<unknown>,
  };
}
