// Where HIMDS listens on 127.0.0.1, and where the agent's other services find it:
// AZCMAGENT_HIMDS_PORT, 40342 by default (as on Azure Arc).
import { AgentError } from '../errors.js';

export const DEFAULT_HIMDS_PORT = 40342;

export function himdsPortSetting(text: string | undefined): number {
  if (text === undefined || text === '') return DEFAULT_HIMDS_PORT;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new AgentError(
      'ERR_INVALID_VALUE',
      `AZCMAGENT_HIMDS_PORT "${text}" is not a port number (0-65535).`,
      { target: 'AZCMAGENT_HIMDS_PORT' },
    );
  }
  return port;
}
