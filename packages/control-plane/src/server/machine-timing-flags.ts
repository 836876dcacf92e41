// `tether server`'s machine timing flags (`--heartbeat-interval`, `--disconnect-after`,
// `--expire-after`, `--rotation-grace`, `--extension-request-timeout`) checked together, so
// status thresholds stay ordered.
import type { MachineTimings } from '../machines/machine-timings.js';
import { parseDuration } from './duration.js';
import { ServerError } from './server-error.js';

export interface MachineTimingFlags {
  heartbeatInterval: string;
  disconnectAfter: string;
  expireAfter: string;
  rotationGrace: string;
  extensionRequestTimeout: string;
}

export const MACHINE_TIMING_FLAG_DEFAULTS: Readonly<MachineTimingFlags> = Object.freeze({
  heartbeatInterval: '5m',
  disconnectAfter: '15m',
  expireAfter: '45d',
  rotationGrace: '10m',
  extensionRequestTimeout: '6h',
});

const SECOND_MS = 1000;

export function parseMachineTimingFlags(
  flags: MachineTimingFlags,
): Pick<
  MachineTimings,
  | 'heartbeatIntervalMs'
  | 'disconnectAfterMs'
  | 'expireAfterMs'
  | 'rotationGraceMs'
  | 'extensionRequestTimeoutMs'
> {
  const heartbeatIntervalMs = parseDuration(
    flags.heartbeatInterval,
    '--heartbeat-interval',
    SECOND_MS,
  );
  const disconnectAfterMs = parseDuration(flags.disconnectAfter, '--disconnect-after', SECOND_MS);
  const expireAfterMs = parseDuration(flags.expireAfter, '--expire-after', SECOND_MS);
  const rotationGraceMs = parseDuration(flags.rotationGrace, '--rotation-grace', SECOND_MS);
  const extensionRequestTimeoutMs = parseDuration(
    flags.extensionRequestTimeout,
    '--extension-request-timeout',
    SECOND_MS,
  );
  // A threshold at or below the interval would show healthy agents Disconnected between beats.
  if (disconnectAfterMs <= heartbeatIntervalMs) {
    throw new ServerError(
      'ERR_SERVER_CONFIG',
      `--disconnect-after ${JSON.stringify(flags.disconnectAfter)} must be longer than --heartbeat-interval ${JSON.stringify(flags.heartbeatInterval)}, or machines that report on time would show Disconnected`,
      { target: '--disconnect-after' },
    );
  }
  if (expireAfterMs <= disconnectAfterMs) {
    throw new ServerError(
      'ERR_SERVER_CONFIG',
      `--expire-after ${JSON.stringify(flags.expireAfter)} must be longer than --disconnect-after ${JSON.stringify(flags.disconnectAfter)}: a machine is Disconnected before it is Expired`,
      { target: '--expire-after' },
    );
  }
  return {
    heartbeatIntervalMs,
    disconnectAfterMs,
    expireAfterMs,
    rotationGraceMs,
    extensionRequestTimeoutMs,
  };
}
