// The guest configuration switch a machine's heartbeat reports (the setting, or monitor mode):
// stored per machine, and the machine's compliance restated when it flips. Remembered in memory
// so that an unchanged switch costs a heartbeat no database work; a flip stored by another node
// (the machine's heartbeats moved there) makes this one forget what it remembered.
import { restateMachines } from '../compliance/policy-state-restate.js';
import { clusterChannelOf, type ClusterChannel } from '../cluster/cluster-channel.js';
import type { JsonObject } from '../resources/arm-request.js';
import { gcMachineState, updateGcMachine, type Db } from './gc-store.js';

/** Guest configuration is off on the machine: the setting says so, or it runs in monitor mode. */
export function gcSwitchedOff(report: JsonObject): boolean {
  const configuration = report['agentConfiguration'];
  if (typeof configuration !== 'object' || configuration === null) return false;
  const settings = configuration as Record<string, unknown>;
  return settings['guestConfigurationEnabled'] === 'false' || settings['configMode'] === 'monitor';
}

const BY_DATABASE = new WeakMap<object, GcSwitchWatch>();

export class GcSwitchWatch {
  /** The switch as last stored, by machine id. */
  private readonly known = new Map<string, boolean>();

  private constructor(
    private readonly db: Db,
    private readonly channel: ClusterChannel,
  ) {
    channel.subscribe('gc-switch', (machineId, origin) => {
      if (origin === 'remote') this.known.delete(machineId);
    });
    channel.onReset({ lost: () => this.known.clear() });
  }

  static of(db: Db): GcSwitchWatch {
    let watch = BY_DATABASE.get(db);
    if (watch === undefined) {
      watch = new GcSwitchWatch(db, clusterChannelOf(db));
      BY_DATABASE.set(db, watch);
    }
    return watch;
  }

  /**
   * Records the switch a heartbeat reported; `now` gives the time (ISO-8601) when a flip is
   * stored. Undefined, without waiting, when the switch is the one remembered: every heartbeat
   * asks, and almost none flips it.
   */
  observe(machineId: string, switchedOff: boolean, now: () => string): Promise<void> | undefined {
    if (this.known.get(machineId) === switchedOff) return undefined;
    return this.store(machineId, switchedOff, now);
  }

  private async store(machineId: string, switchedOff: boolean, now: () => string): Promise<void> {
    if ((await gcMachineState(this.db, machineId)).switchedOff !== switchedOff) {
      await updateGcMachine(this.db, machineId, { switchedOff });
      await restateMachines(this.db, [machineId], now());
      this.channel.publish('gc-switch', machineId);
    }
    this.known.set(machineId, switchedOff);
  }
}
