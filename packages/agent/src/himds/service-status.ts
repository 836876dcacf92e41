// The small status file each service writes for `azcmagent show`: running or not, the last
// heartbeat and the last error. Written atomically by the service's own account.
import { readFileSync } from 'node:fs';
import { replaceFileAtomically } from '../config/atomic-file.js';

export interface ServiceStatus {
  readonly service: 'himds' | 'gc' | 'extension';
  readonly status: 'running' | 'stopped';
  readonly pid: number;
  readonly updatedAt: string;
  readonly lastHeartbeat?: string | undefined;
  readonly lastError?: string | undefined;
  /** HIMDS only: the machine credential's expiry after its last renewal. */
  readonly credentialExpiresOn?: string | undefined;
  /** HIMDS only: the newest local change the control plane has stored (the journal's sequence). */
  readonly localChangesAcknowledged?: number | undefined;
  /** HIMDS only: the id of the journal that sequence counts in ('' for a journal without one). */
  readonly localChangesJournal?: string | undefined;
  /** The extension and guest configuration services: how goal-state changes reach them. */
  readonly goalStateChanges?: 'notice' | 'long poll' | undefined;
  /** Why a running service does nothing (guest configuration: the local switch, no contact). */
  readonly detail?: string | undefined;
}

export function writeServiceStatus(file: string, status: ServiceStatus): void {
  const uid = process.geteuid?.() ?? 0;
  const gid = process.getegid?.() ?? 0;
  replaceFileAtomically(file, `${JSON.stringify(status)}\n`, {
    mode: 0o644,
    ownerUid: uid,
    ownerGid: gid,
  });
}

/** undefined when absent or unreadable: show reports "unknown", never a guess. */
export function readServiceStatus(file: string): ServiceStatus | undefined {
  try {
    const json = JSON.parse(readFileSync(file, 'utf8')) as ServiceStatus;
    return typeof json === 'object' && json !== null && typeof json.status === 'string'
      ? json
      : undefined;
  } catch {
    return undefined;
  }
}
