// Log lines written before the app's logger exists, or where there is none (the primary of a
// server run with several workers): JSON on stderr, as pino writes them, with the same levels.
export interface JsonLog {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

/** pino's numbers for its level names. */
const LOG_LEVEL_VALUES: Readonly<Record<string, number>> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
};

/** Lines at `threshold` or above, each carrying `bindings` (which worker wrote it, say). */
export function jsonLog(threshold: string, bindings: object = {}): JsonLog {
  const least = LOG_LEVEL_VALUES[threshold] ?? 30;
  const at = (level: number) => (object: object, message: string) => {
    if (level >= least) writeLogLine(level, { ...bindings, ...object }, message);
  };
  return { info: at(30), warn: at(40), error: at(50) };
}

function writeLogLine(level: number, object: object, message: string): void {
  const err = (object as { err?: unknown }).err;
  const detail = err instanceof Error ? { err: { message: err.message } } : {};
  process.stderr.write(
    `${JSON.stringify({ level, time: Date.now(), ...object, ...detail, msg: message })}\n`,
  );
}
