// The metrics GET's query: `timespan=<ISO start>/<ISO end>` (default the last hour),
// `metricnames=` a comma list, and `interval`/`aggregation`, which only take what Tether serves.
import { ArmError } from '../api/arm-error.js';
import { METRIC_DEFINITIONS, type MetricDefinition } from './metric-definitions.js';

export interface MetricsQuery {
  readonly startMs: number;
  readonly endMs: number;
  readonly metrics: readonly MetricDefinition[];
}

const HOUR_MS = 60 * 60_000;

export function parseMetricsQuery(
  values: {
    timespan: string | undefined;
    metricnames: string | undefined;
    interval: string | undefined;
    aggregation: string | undefined;
  },
  nowMs: number,
): MetricsQuery {
  const { startMs, endMs } = parseTimespan(values.timespan, nowMs);
  if (values.interval !== undefined && values.interval.toUpperCase() !== 'PT1M') {
    throw badRequest(
      'interval',
      `The interval '${values.interval}' is not supported; metrics are served at PT1M.`,
    );
  }
  if (values.aggregation !== undefined && values.aggregation.toLowerCase() !== 'average') {
    throw badRequest(
      'aggregation',
      `The aggregation '${values.aggregation}' is not supported; metrics are served as Average.`,
    );
  }
  return { startMs, endMs, metrics: chooseMetrics(values.metricnames) };
}

function parseTimespan(timespan: string | undefined, nowMs: number) {
  if (timespan === undefined || timespan === '') return { startMs: nowMs - HOUR_MS, endMs: nowMs };
  const [start, end, ...rest] = timespan.split('/');
  const startMs = Date.parse(start ?? '');
  const endMs = Date.parse(end ?? '');
  if (rest.length > 0 || !Number.isFinite(startMs) || !Number.isFinite(endMs)) {
    throw badRequest(
      'timespan',
      `The timespan '${timespan.slice(0, 100)}' is not valid; give <ISO start>/<ISO end>, e.g. 2026-01-01T00:00:00Z/2026-01-01T01:00:00Z.`,
    );
  }
  if (startMs >= endMs) {
    throw badRequest('timespan', `The timespan '${timespan}' ends before it starts.`);
  }
  return { startMs, endMs };
}

function chooseMetrics(metricnames: string | undefined): MetricDefinition[] {
  if (metricnames === undefined || metricnames.trim() === '') return [...METRIC_DEFINITIONS];
  return metricnames.split(',').map((raw) => {
    const name = raw.trim();
    const found = METRIC_DEFINITIONS.find((m) => m.name.toLowerCase() === name.toLowerCase());
    if (found === undefined) {
      throw badRequest(
        'metricnames',
        `Failed to find metric configuration for provider: Microsoft.HybridCompute, resource Type: machines, metric: ${name.slice(0, 100)}. Valid metrics: ${METRIC_DEFINITIONS.map((m) => m.name).join(',')}.`,
      );
    }
    return found;
  });
}

function badRequest(target: string, message: string): ArmError {
  return new ArmError('BadRequest', message, { target });
}
