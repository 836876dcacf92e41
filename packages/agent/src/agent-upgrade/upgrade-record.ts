// The machine's record of its latest agent upgrade (`var/opt/azcmagent/agent-upgrade.json`,
// root's): which request it answered, whether an install began, and whether the control plane
// has its report — so a restart by the package itself, or a lost report, is finished afterwards.
import { readFileSync } from 'node:fs';
import type { AgentUpgradeReport } from '@tether/protocol/agent-upgrade';
import { replaceFileAtomically } from '../config/atomic-file.js';

export interface UpgradeRecord {
  readonly correlationId: string;
  readonly version: string;
  /** `installing`: dpkg was started; `done`: the outcome is known. */
  readonly state: 'installing' | 'done';
  /** The outcome to report, once known. */
  readonly report?: AgentUpgradeReport;
  readonly reported: boolean;
}

export function readUpgradeRecord(file: string): UpgradeRecord | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const record = parsed as Partial<UpgradeRecord>;
  if (
    typeof record.correlationId !== 'string' ||
    typeof record.version !== 'string' ||
    (record.state !== 'installing' && record.state !== 'done') ||
    typeof record.reported !== 'boolean'
  ) {
    return undefined;
  }
  return record as UpgradeRecord;
}

export function writeUpgradeRecord(file: string, record: UpgradeRecord): void {
  replaceFileAtomically(file, `${JSON.stringify(record, null, 2)}\n`, {
    mode: 0o644,
    ownerUid: 0,
    ownerGid: 0,
  });
}
