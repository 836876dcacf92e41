// Errors the tether client CLI reports: a stable code, a message that names the value and the
// fix, and — in one table the compiler keeps complete — the exit code each code ends with.
import { TetherError } from '@tether/protocol/tether-error';

/** Exit codes follow `az`: 2 for a usage error, 3 when the thing asked about does not exist. */
export const CLI_EXIT_CODES = {
  /** A flag is missing, malformed or conflicts with another; nothing was sent. */
  ERR_USAGE: 2,
  /** No profile and no AZURE_CLIENT_ID/AZURE_CLIENT_SECRET/AZURE_TENANT_ID/TETHER_ENDPOINT. */
  ERR_NOT_LOGGED_IN: 1,
  /** The profile file or its directory is unreadable, corrupt or readable by others. */
  ERR_PROFILE: 1,
  /** The control plane could not be reached, or its TLS certificate is not trusted. */
  ERR_NETWORK: 1,
  /** The token endpoint refused the credentials. */
  ERR_AUTHENTICATION: 1,
  /** The control plane answered with an error. */
  ERR_API: 1,
  /** The resource, role or principal named does not exist. */
  ERR_NOT_FOUND: 3,
  /** A destructive command was not confirmed. */
  ERR_NOT_CONFIRMED: 1,
} as const satisfies Record<string, number>;

export type CliErrorCode = keyof typeof CLI_EXIT_CODES;

export class CliError extends TetherError<CliErrorCode> {
  get exitCode(): number {
    return CLI_EXIT_CODES[this.code];
  }
}

export function usageError(message: string, target?: string): CliError {
  return new CliError('ERR_USAGE', message, target === undefined ? {} : { target });
}
