// Stored samples as Azure Monitor answers `metrics` GET: one time series per metric, one point
// per minute that has samples (`average` of that minute's samples).
import type { MetricDefinition } from './metric-definitions.js';
import type { MetricSample } from '@tether/protocol';
import type { MetricsQuery } from './metrics-query.js';

const MINUTE_MS = 60_000;

export function metricsResponse(input: {
  /** The machine's ARM id as clients spell it. */
  resourceId: string;
  location: string;
  query: MetricsQuery;
  samples: readonly MetricSample[];
}) {
  const { query, samples } = input;
  return {
    cost: 0,
    timespan: `${isoTime(query.startMs)}/${isoTime(query.endMs)}`,
    interval: 'PT1M',
    value: query.metrics.map((metric) => ({
      id: `${input.resourceId}/providers/Microsoft.Insights/metrics/${metric.name}`,
      type: 'Microsoft.Insights/metrics',
      name: { value: metric.name, localizedValue: metric.name },
      displayDescription: metric.description,
      unit: metric.unit,
      timeseries: [{ metadatavalues: [], data: perMinute(metric, samples) }],
      errorCode: 'Success',
    })),
    namespace: 'Microsoft.HybridCompute/machines',
    resourceregion: input.location,
  };
}

function perMinute(metric: MetricDefinition, samples: readonly MetricSample[]) {
  const minutes = new Map<number, { sum: number; count: number }>();
  for (const sample of samples) {
    const minute = Math.floor(Date.parse(sample.time) / MINUTE_MS) * MINUTE_MS;
    const bucket = minutes.get(minute) ?? { sum: 0, count: 0 };
    bucket.sum += metric.value(sample);
    bucket.count += 1;
    minutes.set(minute, bucket);
  }
  return [...minutes.entries()]
    .sort(([a], [b]) => a - b)
    .map(([minute, { sum, count }]) => ({ timeStamp: isoTime(minute), average: sum / count }));
}

/** `2026-01-01T00:00:00Z`, as Azure Monitor writes times; milliseconds only when there are some. */
function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
}
