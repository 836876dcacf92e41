// The AzureMonitorLinuxAgent's public settings: only `intervalSeconds` (default 60).
import { HandlerError } from '../handler-kit/handler-error.js';
import type { JsonObject } from '../handler-kit/handler-settings.js';

export interface MonitorSettings {
  readonly intervalSeconds: number;
}

export const DEFAULT_INTERVAL_SECONDS = 60;

export function parseMonitorSettings(publicSettings: JsonObject): MonitorSettings {
  const given = publicSettings.intervalSeconds;
  if (given === undefined || given === null) return { intervalSeconds: DEFAULT_INTERVAL_SECONDS };
  if (typeof given !== 'number' || !Number.isInteger(given) || given < 1 || given > 3600) {
    throw new HandlerError(
      'ERR_HANDLER_CONFIG',
      `intervalSeconds must be a whole number of seconds from 1 to 3600; got ${JSON.stringify(given).slice(0, 40)}.`,
    );
  }
  return { intervalSeconds: given };
}
