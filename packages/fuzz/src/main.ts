// `npm run fuzz [target…] [--runs N] [--seed N] [--minutes M]`: runs each target (default
// 1,000,000 inputs, or a slow target's time budget) and prints inputs, crashes, 5xx, hangs and
// time, with the first inputs found, then a table of every target.
import { parseArgs } from 'node:util';
import { ALL_TARGETS } from './all-targets.js';
import { runTarget, type RunReport } from './run-target.js';
import { progressLine, shortRunNote, summaryTable } from './run-summary.js';

const DEFAULT_RUNS = 1_000_000;
const PER_INPUT_MS = 1_000;
const PROGRESS_EVERY = 100_000;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    runs: { type: 'string' },
    seed: { type: 'string' },
    minutes: { type: 'string' },
  },
});

function positiveInteger(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0) {
    console.error(`--${name} must be a whole number above 0; got "${text}".`);
    process.exit(2);
  }
  return value;
}

const runs = positiveInteger('runs', values.runs);
const seed = positiveInteger('seed', values.seed) ?? Date.now() % 2 ** 31;
const minutes = positiveInteger('minutes', values.minutes);
const unknown = positionals.filter((name) => !ALL_TARGETS.some((t) => t.name === name));
if (unknown.length > 0) {
  console.error(
    `Unknown target ${unknown.join(', ')}; the targets are ${ALL_TARGETS.map((t) => t.name).join(', ')}.`,
  );
  process.exit(2);
}
const chosen =
  positionals.length === 0 ? ALL_TARGETS : ALL_TARGETS.filter((t) => positionals.includes(t.name));

console.log(
  `seed ${seed} (replay with --seed ${seed}); an input over ${PER_INPUT_MS} ms, and again when sent once more, counts as a hang`,
);
const now = (): number => performance.now();
const reports: RunReport[] = [];
for (const target of chosen) {
  const count = runs ?? DEFAULT_RUNS;
  // --minutes overrides a slow target's own budget (and limits every other target).
  const limit = minutes ?? target.budget?.minutes;
  const report = await runTarget(
    target,
    {
      runs: count,
      seed,
      perInputMs: PER_INPUT_MS,
      ...(limit === undefined ? {} : { timeLimitMs: limit * 60_000 }),
      progress: {
        every: PROGRESS_EVERY,
        report: (inputs, elapsedMs) =>
          console.log(progressLine(target.name, inputs, elapsedMs, process.memoryUsage())),
      },
    },
    now,
  );
  reports.push(report);
  const stopped = report.interrupted ? ' (stopped at the time limit)' : '';
  console.log(
    `${report.target.padEnd(20)} inputs ${String(report.inputs).padStart(9)}  crashes ${report.crashes}  5xx ${report.serverErrors}  hangs ${report.hangs}  stalls ${report.stalls}  ${(report.elapsedMs / 1000).toFixed(1)} s${stopped}   [${target.parser}]`,
  );
  for (const example of report.examples) {
    console.log(`  finding: ${example.finding}\n  input:   ${example.input}`);
  }
  if (report.interrupted && limit !== undefined && target.budget !== undefined) {
    console.log(shortRunNote(report, count, { ...target.budget, minutes: limit }));
  }
}
console.log(`\n${summaryTable(reports)}`);
const found = reports.some((r) => r.crashes + r.serverErrors + r.hangs > 0);
process.exitCode = found ? 1 : 0;
