// The activity-log sink every write and every denied write goes to (B4).
export interface ActivityEvent {
  correlationId: string;
  caller: string;
  /** `Microsoft.HybridCompute/machines/write` and the like. */
  operationName: string;
  status: 'Succeeded' | 'Failed';
  /** HTTP status text or ARM error code. */
  subStatus: string;
  /** Lower-cased ARM id or scope the operation was about. */
  resourceId: string;
  httpMethod: string;
  clientIp: string;
  properties?: Record<string, unknown>;
}

export interface ActivityLog {
  record(event: ActivityEvent): Promise<void>;
}
