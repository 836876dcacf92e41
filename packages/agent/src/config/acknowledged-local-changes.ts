// How far the control plane has acknowledged the change journal, as HIMDS last wrote it in its
// status file. Root reads it only to compact the journal, and reads it as untrusted input.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

const MAX_STATUS_BYTES = 64 * 1024;

/**
 * How far the journal with this id is acknowledged: 0 (nothing, keep everything) when the file is
 * absent, odd or unreadable, or counts in another journal (one deleted since).
 */
export function acknowledgedLocalChanges(himdsStatusFile: string, journalId: string): number {
  let fd: number;
  try {
    // The himds account owns the folder: a link or a FIFO in its place must lead root nowhere.
    fd = openSync(
      himdsStatusFile,
      constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK,
    );
  } catch {
    return 0;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile() || stat.size > MAX_STATUS_BYTES) return 0;
    const buffer = Buffer.alloc(stat.size);
    const length = readSync(fd, buffer, 0, buffer.length, 0);
    const status = JSON.parse(buffer.subarray(0, length).toString('utf8')) as unknown;
    if (typeof status !== 'object' || status === null) return 0;
    const record = status as Record<string, unknown>;
    // Written before journals had an id: it counts in a journal without one.
    if ((record['localChangesJournal'] ?? '') !== journalId) return 0;
    const value = record['localChangesAcknowledged'];
    return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : 0;
  } catch {
    return 0;
  } finally {
    closeSync(fd);
  }
}
