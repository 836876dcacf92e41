// A machine's metrics post, checked field by field: every sample must be whole and plausible,
// or the post is refused with a message naming the field, and nothing is stored.
import type { MetricSample } from '@tether/protocol';
import {
  asObject,
  field,
  invalidContent,
  rejectUnknownFields,
  type JsonObject,
} from '../resources/arm-request.js';

/** A day of one-minute samples: what an agent keeps through an outage. */
export const MAX_SAMPLES_PER_POST = 1440;
/** Clocks drift; a sample further ahead than this is refused. */
export const MAX_FUTURE_SKEW_MS = 5 * 60_000;

const FIGURES = [
  'cpuPercent',
  'memoryUsedBytes',
  'memoryTotalBytes',
  'diskUsedBytes',
  'diskTotalBytes',
] as const;
const FIELDS = ['time', ...FIGURES];
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

export function parseMetricSamples(body: JsonObject, nowMs: number): MetricSample[] {
  rejectUnknownFields(body, ['samples'], '');
  const samples = field(body, 'samples');
  if (!Array.isArray(samples)) {
    throw invalidContent('samples', 'is required: an array of {time, cpuPercent, …} samples');
  }
  if (samples.length > MAX_SAMPLES_PER_POST) {
    throw invalidContent(
      'samples',
      `holds ${samples.length} samples; send at most ${MAX_SAMPLES_PER_POST} per request`,
    );
  }
  return samples.map((raw, index) => parseSample(raw, `samples[${index}]`, nowMs));
}

function parseSample(raw: unknown, target: string, nowMs: number): MetricSample {
  const sample = asObject(raw, target);
  rejectUnknownFields(sample, FIELDS, target);
  const time = field(sample, 'time');
  const timeMs = typeof time === 'string' && ISO_TIME.test(time) ? Date.parse(time) : NaN;
  if (!Number.isFinite(timeMs)) {
    throw invalidContent(`${target}.time`, 'must be an ISO-8601 time such as 2026-01-01T00:00:00Z');
  }
  if (timeMs > nowMs + MAX_FUTURE_SKEW_MS) {
    throw invalidContent(
      `${target}.time`,
      `is more than 5 minutes ahead of the server's time (${new Date(nowMs).toISOString()}); check the machine's clock`,
    );
  }
  const figure = (name: (typeof FIGURES)[number]): number => {
    const value = field(sample, name);
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw invalidContent(`${target}.${name}`, 'must be a non-negative number');
    }
    return value;
  };
  const parsed: MetricSample = {
    time: new Date(timeMs).toISOString(),
    cpuPercent: figure('cpuPercent'),
    memoryUsedBytes: figure('memoryUsedBytes'),
    memoryTotalBytes: figure('memoryTotalBytes'),
    diskUsedBytes: figure('diskUsedBytes'),
    diskTotalBytes: figure('diskTotalBytes'),
  };
  if (parsed.cpuPercent > 100) {
    throw invalidContent(`${target}.cpuPercent`, 'must be at most 100');
  }
  if (parsed.memoryUsedBytes > parsed.memoryTotalBytes) {
    throw invalidContent(`${target}.memoryUsedBytes`, 'must not exceed memoryTotalBytes');
  }
  if (parsed.diskUsedBytes > parsed.diskTotalBytes) {
    throw invalidContent(`${target}.diskUsedBytes`, 'must not exceed diskTotalBytes');
  }
  return parsed;
}
