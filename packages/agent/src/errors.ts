// Every error code the agent can raise, and the one table that maps each code to the exit
// status of `azcmagent`; the compiler demands an entry for every code.
import { isTetherError, TetherError } from '@tether/protocol';
import type {
  AgentConfigurationErrorCode,
  ExtensionNameErrorCode,
  GuestConfigurationErrorCode,
} from '@tether/protocol';

export type AgentErrorCode =
  | ExtensionNameErrorCode
  | AgentConfigurationErrorCode
  | GuestConfigurationErrorCode
  | 'ERR_USAGE'
  | 'ERR_UNKNOWN_COMMAND'
  | 'ERR_UNKNOWN_PROPERTY'
  | 'ERR_INVALID_VALUE'
  | 'ERR_LIST_FLAG_ON_SCALAR'
  | 'ERR_VALUE_NOT_IN_LIST'
  | 'ERR_MONITOR_MODE_LOCKED'
  | 'ERR_NOT_ROOT'
  | 'ERR_INVALID_ROOT'
  | 'ERR_CONFIG_CORRUPT'
  | 'ERR_CONFIG_LOCKED'
  | 'ERR_CONFIG_WRITE_FAILED'
  | 'ERR_EXTENSION_BLOCKED'
  | 'ERR_EXTENSION_NOT_ALLOWED'
  | 'ERR_EXTENSIONS_DISABLED'
  | 'ERR_EXTENSION_NOT_INSTALLED'
  | 'ERR_EXTENSION_STATE_CORRUPT'
  | 'ERR_PUBLISHER_KEY_INVALID'
  | 'ERR_PACKAGE_SIGNATURE'
  | 'ERR_EXTENSION_DOWNLOAD_FAILED'
  | 'ERR_EXTENSION_PACKAGE_INVALID'
  | 'ERR_EXTENSION_COMMAND_FAILED'
  | 'ERR_EXTENSION_TIMEOUT'
  | 'ERR_EXTENSION_HANDLER_ERROR'
  | 'ERR_GUEST_CONFIGURATION_REMEDIATION'
  | 'ERR_GUEST_CONFIGURATION_DOWNLOAD_FAILED'
  | 'ERR_NOT_CONNECTED'
  | 'ERR_ALREADY_CONNECTED'
  | 'ERR_UNREACHABLE'
  | 'ERR_AUTH_FAILED'
  | 'ERR_CONTROL_PLANE_REFUSED'
  | 'ERR_KEY_FILE_UNSAFE'
  | 'ERR_CA_UNTRUSTED'
  | 'ERR_WRONG_ACCOUNT'
  | 'ERR_INTERNAL';

/**
 * 2 is bad input, 3 missing privilege or the wrong account, 4 an unusable local config, 5
 * contention or I/O, 6 refused by the local extension policy, 7 the connection state, 8 the
 * control plane, 9 an unsafe key or CA file, 10 an extension package or handler that failed here.
 */
export const EXIT_CODES: { readonly [C in AgentErrorCode]: number } = {
  ERR_USAGE: 2,
  ERR_UNKNOWN_COMMAND: 2,
  ERR_UNKNOWN_PROPERTY: 2,
  ERR_INVALID_VALUE: 2,
  ERR_INVALID_EXTENSION_NAME: 2,
  ERR_INVALID_AGENT_CONFIGURATION: 2,
  ERR_LIST_FLAG_ON_SCALAR: 2,
  ERR_VALUE_NOT_IN_LIST: 2,
  ERR_MONITOR_MODE_LOCKED: 2,
  ERR_INVALID_ROOT: 2,
  ERR_NOT_ROOT: 3,
  ERR_CONFIG_CORRUPT: 4,
  ERR_CONFIG_LOCKED: 5,
  ERR_CONFIG_WRITE_FAILED: 5,
  ERR_EXTENSION_BLOCKED: 6,
  ERR_EXTENSION_NOT_ALLOWED: 6,
  ERR_EXTENSIONS_DISABLED: 6,
  ERR_EXTENSION_NOT_INSTALLED: 2,
  ERR_EXTENSION_STATE_CORRUPT: 4,
  ERR_PUBLISHER_KEY_INVALID: 2,
  ERR_PACKAGE_SIGNATURE: 10,
  ERR_EXTENSION_DOWNLOAD_FAILED: 10,
  ERR_EXTENSION_PACKAGE_INVALID: 10,
  ERR_EXTENSION_COMMAND_FAILED: 10,
  ERR_EXTENSION_TIMEOUT: 10,
  ERR_EXTENSION_HANDLER_ERROR: 10,
  ERR_GUEST_CONFIGURATION_INVALID: 10,
  ERR_GUEST_CONFIGURATION_REMEDIATION: 10,
  ERR_GUEST_CONFIGURATION_DOWNLOAD_FAILED: 10,
  ERR_NOT_CONNECTED: 7,
  ERR_ALREADY_CONNECTED: 7,
  ERR_UNREACHABLE: 8,
  ERR_AUTH_FAILED: 8,
  ERR_CONTROL_PLANE_REFUSED: 8,
  ERR_KEY_FILE_UNSAFE: 9,
  ERR_CA_UNTRUSTED: 9,
  ERR_WRONG_ACCOUNT: 3,
  ERR_INTERNAL: 1,
};

export class AgentError extends TetherError<AgentErrorCode> {}

export function exitCodeFor(error: unknown): number {
  if (isTetherError(error) && Object.hasOwn(EXIT_CODES, error.code)) {
    return EXIT_CODES[error.code as AgentErrorCode];
  }
  return EXIT_CODES.ERR_INTERNAL;
}
