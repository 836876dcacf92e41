// Waits for a connected agent's HIMDS heartbeats, from the service status file it writes.
import { readServiceStatus } from '@tether/agent/himds/service-status';
import type { AgentPaths } from '@tether/agent/paths';
import { waitFor } from './wait-for.js';

export interface HeartbeatWatch {
  /** When the last heartbeat finished, if one has. */
  last(): string | undefined;
  /** Resolves once HIMDS has finished a heartbeat that began after this call. */
  next(): Promise<void>;
}

export function heartbeatWatch(paths: AgentPaths): HeartbeatWatch {
  const last = (): string | undefined =>
    readServiceStatus(paths.serviceStatus('himds'))?.lastHeartbeat;
  return {
    last,
    async next() {
      // The first heartbeat to finish may have begun before; the one after it cannot have.
      for (let finished = 0, seen = last(); finished < 2; finished += 1) {
        const before = seen;
        seen = await waitFor('a heartbeat', () => {
          const now = last();
          return now !== undefined && now !== before ? now : undefined;
        });
      }
    },
  };
}
