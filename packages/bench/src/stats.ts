// Small statistics and reporting helpers shared by every benchmark.
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

export function summarize(samples: readonly number[]): { p50: number; p99: number; n: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), n: sorted.length };
}

export interface Row {
  metric: string;
  value: number;
  unit: string;
  /** The floor measured in the same run, in the same unit. */
  floor?: number;
  /** Target as a human-readable statement, e.g. "<= 1.5x floor". */
  target?: string;
}

/** Prints a table of figures with the ratio to the floor beside each absolute value. */
export function report(title: string, rows: readonly Row[]): void {
  console.log(`\n## ${title}`);
  const lines = rows.map((r) => {
    const ratio = r.floor === undefined ? '' : `${(r.value / r.floor).toFixed(2)}x floor`;
    const floor = r.floor === undefined ? '' : `${fmt(r.floor)} ${r.unit}`;
    return [r.metric, `${fmt(r.value)} ${r.unit}`, floor, ratio, r.target ?? ''];
  });
  const header = ['metric', 'value', 'floor (same run)', 'ratio', 'target'];
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const print = (cells: string[]): void =>
    console.log(cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | '));
  print(header);
  print(widths.map((w) => '-'.repeat(w)));
  lines.forEach(print);
}

function fmt(n: number): string {
  if (Number.isInteger(n)) return String(n);
  return n >= 100 ? n.toFixed(0) : n >= 1 ? n.toFixed(2) : n.toPrecision(3);
}
