// The guest configuration switch a machine's heartbeat reports (the setting, or monitor mode):
// stored per machine, and the machine's compliance restated when it flips. Remembered in memory
// so that an unchanged switch costs a heartbeat no database work, and after a start read for
// every machine at once; a flip stored by another node (the machine's heartbeats moved there)
// makes this one forget what it remembered and read that machine's row.
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
  /**
   * The machines stored as switched off, read in one query when a heartbeat first needs the
   * switch: after a start every machine's first heartbeat would otherwise read its own row, and
   * a restarted node meets its whole fleet within one heartbeat interval. Rows are off rarely.
   */
  private storedOff: Promise<Set<string>> | undefined;
  /** Machines another node flipped since `storedOff` was asked for: their own row is read. */
  private readonly flippedElsewhere = new Set<string>();

  private constructor(
    private readonly db: Db,
    private readonly channel: ClusterChannel,
  ) {
    channel.subscribe('gc-switch', (machineId, origin) => {
      if (origin !== 'remote') return;
      this.known.delete(machineId);
      this.flippedElsewhere.add(machineId);
    });
    channel.onReset({
      lost: () => {
        this.known.clear();
        this.storedOff = undefined;
        this.flippedElsewhere.clear();
      },
    });
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
    if ((await this.stored(machineId)) !== switchedOff) {
      await updateGcMachine(this.db, machineId, { switchedOff });
      await restateMachines(this.db, [machineId], now());
      this.channel.publish('gc-switch', machineId);
    }
    this.known.set(machineId, switchedOff);
    this.flippedElsewhere.delete(machineId);
  }

  /** The switch as stored: from this node's own writes, the one read of every off machine, or the row. */
  private async stored(machineId: string): Promise<boolean> {
    const known = this.known.get(machineId);
    if (known !== undefined) return known;
    if (!this.flippedElsewhere.has(machineId)) {
      const loading = (this.storedOff ??= this.readStoredOff());
      const off = await loading.catch(() => undefined);
      if (off === undefined && this.storedOff === loading) this.storedOff = undefined;
      // Another node may have flipped it while the list was read.
      else if (off !== undefined && !this.flippedElsewhere.has(machineId))
        return off.has(machineId);
    }
    return (await gcMachineState(this.db, machineId)).switchedOff;
  }

  private async readStoredOff(): Promise<Set<string>> {
    const rows = await this.db
      .selectFrom('guest_configuration_machines')
      .select('machine_id')
      .where('switched_off', '=', 1)
      .execute();
    return new Set(rows.map((row) => row.machine_id));
  }
}
