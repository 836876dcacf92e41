// One sample of the server's figures, as POSTed to the control plane's metrics route.
export interface MetricSample {
  /** ISO-8601, when it was taken. */
  readonly time: string;
  readonly cpuPercent: number;
  readonly memoryUsedBytes: number;
  readonly memoryTotalBytes: number;
  readonly diskUsedBytes: number;
  readonly diskTotalBytes: number;
}
