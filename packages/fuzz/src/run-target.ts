// Runs one target for a number of inputs and counts what it finds: crashes (a thrown error the
// module does not document), 5xx answers, and hangs (an input slower than the per-input budget,
// and slow again when sent once more: on a loaded machine any input can be stalled once).
import fc from 'fast-check';
import type { FuzzTarget } from './fuzz-target.js';

export interface RunOptions {
  readonly runs: number;
  readonly seed: number;
  /** An input taking longer than this counts as a hang (measured, never asserted in CI). */
  readonly perInputMs: number;
  /** Stops the run early (reported); only the long run sets it. */
  readonly timeLimitMs?: number;
  /** Called after every `every` inputs, so a long run shows its rate and memory as it goes. */
  readonly progress?: {
    readonly every: number;
    readonly report: (inputs: number, elapsedMs: number) => void;
  };
}

export interface RunReport {
  readonly target: string;
  readonly inputs: number;
  readonly crashes: number;
  readonly serverErrors: number;
  readonly hangs: number;
  /** Inputs slow once but not when sent again: the machine, not the parser, was slow. */
  readonly stalls: number;
  readonly elapsedMs: number;
  readonly interrupted: boolean;
  /** The first few distinct findings, each with the input that caused it. */
  readonly examples: readonly { readonly finding: string; readonly input: string }[];
  /** How often each kind of answer came back, for targets that count them. */
  readonly outcomes?: ReadonlyMap<string, number>;
}

const MAX_EXAMPLES = 5;

/**
 * Inputs between turns of the event loop. Inject answers within promise jobs, so a run of
 * requests that touch no I/O never lets the loop reach setImmediate callbacks; every request
 * queued one (holding its request and response), and a million of them ran out of memory.
 */
export const YIELD_EVERY = 100;

const turnOfTheLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function runTarget(
  target: FuzzTarget,
  options: RunOptions,
  now: () => number,
): Promise<RunReport> {
  const opened = await target.open();
  let inputs = 0;
  let crashes = 0;
  let serverErrors = 0;
  let hangs = 0;
  let stalls = 0;
  const examples: { finding: string; input: string }[] = [];
  const seen = new Set<string>();
  const note = (finding: string, input: unknown): void => {
    const kind = finding.replace(/\d+/g, 'N').slice(0, 160);
    if (seen.has(kind) || examples.length >= MAX_EXAMPLES) return;
    seen.add(kind);
    examples.push({ finding, input: fc.stringify(input).slice(0, 2000) });
  };
  const started = now();
  try {
    const result = await fc.check(
      fc.asyncProperty(opened.arbitrary, async (input) => {
        inputs += 1;
        const before = now();
        const finding = await opened.check(input);
        const took = now() - before;
        if (finding !== undefined) {
          if (finding.startsWith('5xx')) serverErrors += 1;
          else crashes += 1;
          note(finding, input);
        }
        if (took > options.perInputMs) {
          const again = now();
          await opened.check(input);
          const retook = now() - again;
          if (retook > options.perInputMs) {
            hangs += 1;
            note(`hang: ${took.toFixed(0)} ms, and ${retook.toFixed(0)} ms when sent again`, input);
          } else {
            stalls += 1;
          }
        }
        if (inputs % YIELD_EVERY === 0) await turnOfTheLoop();
        if (options.progress !== undefined && inputs % options.progress.every === 0) {
          options.progress.report(inputs, now() - started);
        }
        return true;
      }),
      {
        numRuns: options.runs,
        seed: options.seed,
        ...(options.timeLimitMs === undefined
          ? {}
          : { interruptAfterTimeLimit: options.timeLimitMs, markInterruptAsFailure: false }),
      },
    );
    return {
      target: target.name,
      inputs,
      crashes,
      serverErrors,
      hangs,
      stalls,
      elapsedMs: now() - started,
      interrupted: result.interrupted,
      examples,
      ...(opened.outcomes === undefined ? {} : { outcomes: opened.outcomes() }),
    };
  } finally {
    await opened.close?.();
  }
}
