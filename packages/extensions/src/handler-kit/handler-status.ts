// Writes `status/<seq>.status` in the Azure handler shape, atomically (temporary file, then
// rename), so the extension service never reads half a status.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type StatusKind = 'transitioning' | 'error' | 'success' | 'warning';

export interface OperationResult {
  readonly status: StatusKind;
  readonly code: number;
  readonly message: string;
}

export interface StatusFileEntry {
  readonly version: 1.0;
  readonly timestampUTC: string;
  readonly status: {
    readonly name: string;
    readonly operation: string;
    readonly status: StatusKind;
    readonly code: number;
    readonly formattedMessage: { readonly lang: string; readonly message: string };
  };
}

export function statusFileOf(statusFolder: string, sequence: number): string {
  return join(statusFolder, `${sequence}.status`);
}

export function writeStatus(
  statusFolder: string,
  sequence: number,
  entry: { name: string; operation: string; result: OperationResult; time: Date },
): string {
  const body: StatusFileEntry[] = [
    {
      version: 1.0,
      timestampUTC: entry.time.toISOString(),
      status: {
        name: entry.name,
        operation: entry.operation,
        status: entry.result.status,
        code: entry.result.code,
        formattedMessage: { lang: 'en-US', message: entry.result.message },
      },
    },
  ];
  mkdirSync(statusFolder, { recursive: true });
  const file = statusFileOf(statusFolder, sequence);
  writeFileAtomic(file, JSON.stringify(body));
  return file;
}

/** Same-folder temporary file then rename: readers see the old or the new file, never a part. */
export function writeFileAtomic(file: string, content: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, content, { mode: 0o600 });
  renameSync(temporary, file);
}
