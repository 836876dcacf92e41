// The body of `POST …/extensionStatus` (docs/extensions.md): the outcome of one operation, or a
// status change without one (operationId null).
import type { InstanceStatus } from '../extension-host.js';

export interface StatusReport {
  readonly name: string;
  /** The operation this completes; null for a status update only. */
  readonly operationId: string | null;
  readonly sequence: number;
  readonly result: 'Succeeded' | 'Failed';
  /** Required when Failed. */
  readonly error?: { readonly code: string; readonly message: string };
  readonly instanceView: {
    readonly name: string;
    readonly type: string;
    readonly typeHandlerVersion: string;
    readonly status: InstanceStatus;
  };
}
