// The activity-log sink every write and every denied write goes to.
import type { Write } from '../store/group-commit.js';

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
  /**
   * Commits `write` and `event` (when there is one) in one transaction, shared with concurrent
   * requests' writes: a write and its record cost one durable commit, and neither is kept
   * without the other. Rejects with the write's own error when it fails.
   */
  recordWith(event: ActivityEvent | undefined, write: Write): Promise<void>;
}
