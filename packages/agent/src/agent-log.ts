// One line appended to an agent log file (log/azcmagent.log for commands, log/himds.log for
// HIMDS). Logging never stops the work: a log that cannot be written is skipped.
import { appendFileSync } from 'node:fs';

/** Appends `<ISO time> <line>`; returns false when the file could not be written. */
export function appendLogLine(file: string, nowMs: number, line: string): boolean {
  try {
    // 0640: logs may name resources and principals; root and the owner's group read them.
    appendFileSync(file, `${new Date(nowMs).toISOString()} ${line.replace(/\n/g, ' ')}\n`, {
      mode: 0o640,
    });
    return true;
  } catch {
    return false;
  }
}
