// The monitoring extension's figures as `tether machine metrics` shows them: per-minute points
// averaged into the interval asked for, figures in their unit, and a one-line chart per metric.
import { InvalidArgumentError } from 'commander';

export interface MetricSeries {
  name: string;
  /** Azure Monitor's unit: `Percent`, `Bytes`, … */
  unit: string;
  points: readonly { timeStamp: string; average?: number | undefined }[];
}

export interface MetricRow {
  timeStamp: string;
  /** By metric name; absent when the interval has no sample of it. */
  values: Record<string, number | undefined>;
}

const MINUTE_MS = 60_000;
const MAX_INTERVAL_MS = 24 * 60 * MINUTE_MS;
const UNITS_MS: Record<string, number> = { m: MINUTE_MS, h: 60 * MINUTE_MS, d: MAX_INTERVAL_MS };

/** `5m`, `1h`, `1d` or ISO 8601 `PT5M`, `PT1H`: whole minutes, one minute to one day. */
export function parseInterval(value: string): number {
  const short = /^(\d{1,4})([mhd])$/i.exec(value);
  const iso = /^PT(?:(\d{1,2})H)?(?:(\d{1,4})M)?$/i.exec(value);
  const ms =
    short !== null
      ? Number(short[1]) * (UNITS_MS[(short[2] ?? 'm').toLowerCase()] ?? MINUTE_MS)
      : iso !== null && (iso[1] !== undefined || iso[2] !== undefined)
        ? Number(iso[1] ?? 0) * 60 * MINUTE_MS + Number(iso[2] ?? 0) * MINUTE_MS
        : Number.NaN;
  if (!Number.isFinite(ms) || ms < MINUTE_MS || ms > MAX_INTERVAL_MS) {
    throw new InvalidArgumentError(
      "Expected an interval of one minute to one day, such as '1m', '5m', '1h' or 'PT15M'.",
    );
  }
  return ms;
}

/** One row per interval that has a sample, oldest first, each metric the mean of its points. */
export function bucketRows(series: readonly MetricSeries[], intervalMs: number): MetricRow[] {
  const buckets = new Map<number, Map<string, { sum: number; count: number }>>();
  for (const metric of series) {
    for (const point of metric.points) {
      const time = Date.parse(point.timeStamp);
      if (point.average === undefined || !Number.isFinite(time)) continue;
      const start = Math.floor(time / intervalMs) * intervalMs;
      const bucket = buckets.get(start) ?? new Map<string, { sum: number; count: number }>();
      const figure = bucket.get(metric.name) ?? { sum: 0, count: 0 };
      figure.sum += point.average;
      figure.count += 1;
      bucket.set(metric.name, figure);
      buckets.set(start, bucket);
    }
  }
  return [...buckets.keys()]
    .sort((a, b) => a - b)
    .map((start) => {
      const bucket = buckets.get(start);
      const values: Record<string, number | undefined> = {};
      for (const metric of series) {
        const figure = bucket?.get(metric.name);
        values[metric.name] = figure === undefined ? undefined : figure.sum / figure.count;
      }
      return { timeStamp: new Date(start).toISOString().replace('.000Z', 'Z'), values };
    });
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** `12.5 %`, `3.21 GiB`; other units as a plain number. */
export function formatFigure(unit: string, value: number | undefined): string {
  if (value === undefined) return '';
  if (unit === 'Percent') return `${value.toFixed(1)} %`;
  if (unit === 'Bytes') {
    let scaled = value;
    let index = 0;
    while (scaled >= 1024 && index < BYTE_UNITS.length - 1) {
      scaled /= 1024;
      index += 1;
    }
    return `${index === 0 ? scaled.toFixed(0) : scaled.toFixed(2)} ${BYTE_UNITS[index] ?? 'B'}`;
  }
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

const BARS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/** One character per value, scaled between the lowest and highest; a gap where none. */
export function sparkline(values: readonly (number | undefined)[]): string {
  const present = values.filter((v): v is number => v !== undefined);
  if (present.length === 0) return '';
  const low = Math.min(...present);
  const span = Math.max(...present) - low;
  return values
    .map((v) => {
      if (v === undefined) return ' ';
      const level = span === 0 ? 0 : Math.round(((v - low) / span) * (BARS.length - 1));
      return BARS[level] ?? '▁';
    })
    .join('');
}
