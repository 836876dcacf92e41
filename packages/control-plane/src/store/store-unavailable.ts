// Whether an error says the database cannot be reached right now (PostgreSQL stopped,
// restarting, or the connection cut), or that this node's connections to it were all busy,
// rather than that the request or the code is wrong: such a request is answered 503 with
// Retry-After, and is worth trying again shortly.

/**
 * Every connection of this process's PostgreSQL pool stayed in use for the whole wait: the node
 * is busy, the database is up. Told apart from "unreachable" so that the answer says which.
 */
export class StoreBusyError extends Error {
  readonly code = 'ERR_STORE_BUSY';

  constructor(
    readonly poolSize: number,
    readonly waitedMs: number,
    options?: ErrorOptions,
  ) {
    super(
      `all ${poolSize} PostgreSQL connections of the pool stayed in use for ${waitedMs} ms`,
      options,
    );
    this.name = 'StoreBusyError';
  }
}

/** The StoreBusyError behind `error`, if that is what it is. */
export function storeBusyOf(error: unknown): StoreBusyError | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    if (current instanceof StoreBusyError) return current;
    current = current.cause;
  }
  return undefined;
}
const UNAVAILABLE_SQLSTATES = new Set([
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down, recovering)
  '53300', // too_many_connections
]);

const UNAVAILABLE_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
]);

const UNAVAILABLE_MESSAGES = [
  'Connection terminated',
  'connection is not queryable',
  'timeout exceeded when trying to connect',
  'Client was closed and is not queryable',
];

export function isStoreUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') {
      // Class 08: connection exceptions.
      if (code.startsWith('08') && code.length === 5) return true;
      if (UNAVAILABLE_SQLSTATES.has(code) || UNAVAILABLE_ERRNOS.has(code)) return true;
    }
    if (
      UNAVAILABLE_MESSAGES.some(
        (text) => current instanceof Error && current.message.includes(text),
      )
    )
      return true;
    current = current.cause;
  }
  return false;
}

/** SQLite's and PostgreSQL's "disk full", and the file system's. */
const FULL_CODES = new Set(['SQLITE_FULL', '53100', 'ENOSPC']);

/**
 * Whether an error says the database's disk is full: the write was not applied, and will not
 * be until space is freed on the data disk.
 */
export function isStorageFull(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && FULL_CODES.has(code)) return true;
    current = current.cause;
  }
  return false;
}
