// A machine's status as a pure function of what its agent last reported, its credential and
// the time: Connected, Disconnected after a silence, Expired after a long one or a lapsed key.
import type { MachineTimings } from './machine-timings.js';

export type MachineStatus = 'Connected' | 'Disconnected' | 'Expired';

export interface MachineStatusInput {
  onboardedAt: number;
  lastHeartbeatAt: number | undefined;
  /** Start of the current gap-free run of heartbeats. */
  connectedSince: number | undefined;
  credentialExpiresAt: number;
  revokedAt: number | undefined;
}

export interface DerivedStatus {
  status: MachineStatus;
  /** When the derived status last changed, in ms. */
  lastStatusChange: number;
}

export function deriveMachineStatus(
  input: MachineStatusInput,
  now: number,
  timings: Pick<MachineTimings, 'disconnectAfterMs' | 'expireAfterMs'>,
): DerivedStatus {
  const lastContact = input.lastHeartbeatAt ?? input.onboardedAt;
  // Whatever ends the machine's life first: silence, the key's expiry, or a revocation.
  const expiresAt = Math.min(
    lastContact + timings.expireAfterMs,
    input.credentialExpiresAt,
    input.revokedAt ?? Number.POSITIVE_INFINITY,
  );
  if (now >= expiresAt) return { status: 'Expired', lastStatusChange: expiresAt };
  if (input.lastHeartbeatAt === undefined) {
    // Nobody has heard from the machine since it was onboarded.
    return { status: 'Disconnected', lastStatusChange: input.onboardedAt };
  }
  const disconnectsAt = input.lastHeartbeatAt + timings.disconnectAfterMs;
  if (now >= disconnectsAt) return { status: 'Disconnected', lastStatusChange: disconnectsAt };
  return {
    status: 'Connected',
    lastStatusChange: input.connectedSince ?? input.lastHeartbeatAt,
  };
}
