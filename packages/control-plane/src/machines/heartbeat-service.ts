// What a heartbeat does, whichever way it arrives (the router's route, the lean path in front
// of it or the agent channel): validates the report and local changes, stores the changes once
// each, writes the liveness with group commit and answers once that write is durable.
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { ArmError } from '../api/arm-error.js';
import type { Caller } from '../api/caller.js';
import type { Clock } from '../clock.js';
import { GcSwitchWatch, gcSwitchedOff } from '../guest-configuration/gc-switch-watch.js';
import { bodyObjectOf } from '../resources/arm-request.js';
import type { Database } from '../store/schema.js';
import { HeartbeatBatcher } from './heartbeat-batcher.js';
import {
  parseHeartbeat,
  parseHeartbeatLocalChanges,
  type HeartbeatLocalChanges,
} from './heartbeat-body.js';
import { DEFAULT_MACHINE_TIMINGS, type MachineTimings } from './machine-timings.js';
import { recordLocalChanges } from './record-local-changes.js';

export interface HeartbeatCall {
  /** The machine's resource id, checked by admission: the scope of its action. */
  machineId: string;
  /** The parsed JSON body; undefined when none came. */
  body: unknown;
  caller: Caller | undefined;
  /** Asked only when a local change is recorded. */
  correlationId: () => string;
  /** Asked only when an activity-log event needs it. */
  clientIp: () => string;
}

/**
 * A heartbeat body once validated: what storing it needs. It depends on the body alone, so a
 * channel whose agent sends the same body again may store this again without reading it again.
 */
export interface ReadHeartbeat {
  /** JSON of the report, as the agent row keeps it. */
  readonly reportJson: string;
  /** What tells an unchanged report (heartbeat-batcher.ts). */
  readonly reportHash: string;
  /** Whether the report turns guest configuration off (gcSwitchedOff). */
  readonly switchedOff: boolean;
  readonly localChanges: HeartbeatLocalChanges;
}

export interface HeartbeatAnswer {
  heartbeatIntervalSeconds: number;
  credential: { expiresOn: string; rotationRequested: boolean };
  localChangesAcknowledged?: number;
}

export class HeartbeatService {
  private readonly batcher: HeartbeatBatcher;
  private readonly intervalSeconds: number;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    timings: Readonly<MachineTimings> = DEFAULT_MACHINE_TIMINGS,
  ) {
    this.batcher = new HeartbeatBatcher(db, clock, timings);
    this.intervalSeconds = Math.round(timings.heartbeatIntervalMs / 1000);
  }

  async answer(call: HeartbeatCall): Promise<HeartbeatAnswer> {
    return this.store(call, this.read(call.body));
  }

  /** Validates a heartbeat body: both parts before either is stored, so a bad entry stores nothing. */
  read(body: unknown): ReadHeartbeat {
    const object = bodyObjectOf(body);
    const report = parseHeartbeat(object);
    const localChanges = parseHeartbeatLocalChanges(object);
    const reportJson = JSON.stringify(report);
    return {
      reportJson,
      reportHash: reportHashOf(reportJson),
      switchedOff: gcSwitchedOff(report),
      localChanges,
    };
  }

  /** Stores a heartbeat as `read` gave it. */
  async store(call: Omit<HeartbeatCall, 'body'>, read: ReadHeartbeat): Promise<HeartbeatAnswer> {
    const { machineId, caller } = call;
    const { localChanges } = read;
    const acknowledged =
      localChanges.changes.length === 0 || caller === undefined
        ? undefined
        : await recordLocalChanges(
            this.db,
            {
              machineId,
              caller,
              correlationId: call.correlationId(),
              clientIp: call.clientIp(),
              receivedAt: new Date(this.clock.now()).toISOString(),
            },
            localChanges,
          );
    const record = await this.batcher.submit({
      machineId,
      report: read.reportJson,
      reportHash: read.reportHash,
    });
    if (record === undefined) throw noIdentity(machineId);
    const flip = GcSwitchWatch.of(this.db).observe(machineId, read.switchedOff, () =>
      new Date(this.clock.now()).toISOString(),
    );
    if (flip !== undefined) await flip;
    // The interval in every answer lets a restarted control plane spread its agents out.
    return {
      heartbeatIntervalSeconds: this.intervalSeconds,
      credential: {
        expiresOn: record.credentialExpiresAt,
        rotationRequested: record.rotationRequested,
      },
      // The agent stops resending changes up to here.
      ...(acknowledged === undefined ? {} : { localChangesAcknowledged: acknowledged }),
    };
  }
}

export function reportHashOf(reportJson: string): string {
  return createHash('sha256').update(reportJson).digest('base64');
}

export function noIdentity(machineId: string): ArmError {
  return new ArmError(
    'ResourceNotFound',
    `The machine '${machineId.split('/').pop() ?? machineId}' has no system-assigned identity; onboard it with azcmagent connect.`,
  );
}
