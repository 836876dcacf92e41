// How `tether init` and `tether server` end: a failure prints `ERROR: <message>` (the message
// names the value and the fix) and exits 1; anything unexpected also shows its cause.
import { isTetherError } from '@tether/protocol';

export function runServerCommand(work: () => Promise<void>): Promise<void> {
  return work().catch((error: unknown) => {
    if (isTetherError(error)) {
      process.stderr.write(`ERROR: ${error.message}\n`);
    } else {
      process.stderr.write(
        `ERROR: unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
    }
    process.exitCode = 1;
  });
}
