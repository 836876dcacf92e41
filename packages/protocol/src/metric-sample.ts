// One sample of a server's CPU, memory and disk figures: what the monitoring extension posts to
// `…/machines/{m}/providers/Microsoft.Insights/metrics` (docs/extensions.md).
export interface MetricSample {
  /** ISO-8601 instant the sample was taken. */
  readonly time: string;
  readonly cpuPercent: number;
  readonly memoryUsedBytes: number;
  readonly memoryTotalBytes: number;
  readonly diskUsedBytes: number;
  readonly diskTotalBytes: number;
}
