// What the long run prints: a progress line (rate and memory) while a target runs, the reason a
// budgeted target stopped short of its count, and the closing table of every target.
import type { RunBudget } from './fuzz-target.js';
import type { RunReport } from './run-target.js';

const MB = 1024 * 1024;

const perSecond = (inputs: number, elapsedMs: number): number =>
  elapsedMs > 0 ? inputs / (elapsedMs / 1000) : 0;

export function progressLine(
  target: string,
  inputs: number,
  elapsedMs: number,
  memory: { readonly heapUsed: number; readonly rss: number },
): string {
  return `  ${target}: ${inputs} inputs in ${(elapsedMs / 1000).toFixed(0)} s (${perSecond(inputs, elapsedMs).toFixed(0)}/s), heap ${(memory.heapUsed / MB).toFixed(0)} MB, rss ${(memory.rss / MB).toFixed(0)} MB`;
}

/** Why a target sent fewer inputs than asked: the measured rate, and what the inputs covered. */
export function shortRunNote(report: RunReport, wanted: number, budget: RunBudget): string {
  const rate = perSecond(report.inputs, report.elapsedMs);
  const fullMinutes = rate > 0 ? wanted / rate / 60 : Infinity;
  const lines = [
    `  ${report.target} stopped at ${report.inputs} of ${wanted} inputs after its ${budget.minutes} min budget: measured ${rate.toFixed(0)} inputs/s, so ${wanted} would take ${fullMinutes.toFixed(0)} min.`,
    `  Why ${report.inputs} inputs cover it: ${budget.covers}`,
  ];
  const outcomes = [...(report.outcomes ?? new Map<string, number>())].sort((a, b) => b[1] - a[1]);
  if (outcomes.length > 0) {
    const rarest = outcomes[outcomes.length - 1];
    lines.push(
      `  ${outcomes.length} kinds of answer, the rarest (${rarest?.[0]}) seen ${rarest?.[1]} times: ${outcomes
        .map(([kind, count]) => `${kind} ×${count}`)
        .join(', ')}`,
    );
  }
  return lines.join('\n');
}

export function summaryTable(reports: readonly RunReport[]): string {
  const header = ['target', 'inputs', 'crashes', 'hangs', '5xx', 'time', 'inputs/s', 'stalls'];
  const rows = reports.map((r) => [
    r.target,
    `${r.inputs}${r.interrupted ? '*' : ''}`,
    String(r.crashes),
    String(r.hangs),
    String(r.serverErrors),
    `${(r.elapsedMs / 1000).toFixed(1)} s`,
    perSecond(r.inputs, r.elapsedMs).toFixed(0),
    String(r.stalls),
  ]);
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const table = [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  if (reports.some((r) => r.interrupted)) table.push('* stopped at its time limit (see above)');
  if (reports.some((r) => r.stalls > 0)) {
    table.push('stalls: inputs over the time limit once but not when sent again (not findings)');
  }
  return table.join('\n');
}
