// `--output json|table`: JSON as `az` prints it, or an aligned table of chosen columns. Text
// from the server is stripped of control characters so it cannot drive the terminal.
import type { OutputFormat } from './parsers.js';

export interface Column<T> {
  header: string;
  value(row: T): unknown;
}

export function renderOutput<T>(
  value: T | readonly T[],
  format: OutputFormat,
  columns: readonly Column<T>[],
): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(value, null, 2)}\n`;
    case 'table':
      return formatTable(Array.isArray(value) ? (value as readonly T[]) : [value as T], columns);
  }
}

/** Header, a dashed rule, then one line per row; an empty list prints nothing, as in `az`. */
export function formatTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  if (rows.length === 0) return '';
  const cells = rows.map((row) => columns.map((column) => cellText(column.value(row))));
  const widths = columns.map((column, index) =>
    Math.max(column.header.length, ...cells.map((line) => (line[index] ?? '').length)),
  );
  const line = (values: readonly string[]): string =>
    values
      .map((value, index) => value.padEnd(widths[index] ?? 0))
      .join('  ')
      .trimEnd();
  return [
    line(columns.map((column) => column.header)),
    line(widths.map((width) => '-'.repeat(width))),
    ...cells.map(line),
  ]
    .map((text) => `${text}\n`)
    .join('');
}

export function cellText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'string') return printable(value);
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return printable(JSON.stringify(value));
}

/** Replaces C0/C1 control characters (escape sequences included) with U+FFFD. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '\uFFFD');
}
