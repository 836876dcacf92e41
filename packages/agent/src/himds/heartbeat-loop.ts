// HIMDS's conversation with the control plane: a heartbeat at the interval the server asks for
// (sooner when localconfig.json changes) carrying the local changes not yet acknowledged, backoff
// with full jitter while it is unreachable, and credential renewal when 45 days or fewer remain
// or the server asks for it.
import { readFileSync, renameSync, rmSync, watch, type FSWatcher } from 'node:fs';
import { isTetherError, MAX_LOCAL_CHANGES_PER_HEARTBEAT, type LocalChange } from '@tether/protocol';
import type { Clock } from '../clock.js';
import { agentConfigurationReport } from '../agent-configuration-report.js';
import { loadLocalConfig } from '../config/local-config-file.js';
import { unacknowledgedLocalChanges } from '../config/local-change-journal.js';
import { HeartbeatChannel } from '../control-plane/heartbeat-channel.js';
import type { postHeartbeat } from '../control-plane/machine-api.js';
import { postRotateCredential, type MachineTarget } from '../control-plane/machine-api.js';
import type { AgentState } from '../identity/agent-state.js';
import { osFacts } from '../identity/machine-facts.js';
import { generateMachineKey, parseMachineKey, writeMachineKey } from '../identity/machine-key.js';
import { retireMachineKey } from '../identity/retired-keys.js';
import type { Egress } from '../network/egress.js';
import type { AgentPaths } from '../paths.js';
import { systemScheduler, type Scheduler } from '../scheduler.js';
import {
  DEFAULT_BACKOFF,
  fullJitterDelay,
  retryAfterDelay,
  retryAfterOf,
  type BackoffPolicy,
} from './backoff.js';
import type { GoalStateNotices } from './goal-state-notices.js';
import type { MachineTokenSource } from './machine-token-source.js';
import { readServiceStatus, writeServiceStatus } from './service-status.js';

const RENEW_WHEN_DAYS_LEFT = 45;
const DAY_MS = 86_400_000;
/** A burst of config writes (temp file, rename, backup) becomes one heartbeat. */
const CHANGE_DEBOUNCE_MS = 300;

/**
 * The two control-plane calls the loop makes: heartbeats over the agent channel (the POST when it
 * cannot be used) and the rotation POST, unless a test stands in.
 */
export interface HeartbeatApi {
  readonly heartbeat: typeof postHeartbeat;
  readonly rotateCredential: typeof postRotateCredential;
}

export interface HeartbeatOptions {
  readonly paths: AgentPaths;
  readonly state: AgentState;
  readonly ca: string | undefined;
  /** Direct or through the proxy, asked before every call. */
  readonly egress: Egress;
  readonly tokens: Pick<MachineTokenSource, 'token' | 'useKey' | 'forget'>;
  readonly clock: Clock;
  readonly scheduler?: Scheduler;
  readonly api?: HeartbeatApi;
  readonly random: () => number;
  /** Overrides the server's interval (AZCMAGENT_HEARTBEAT_SECONDS). */
  readonly intervalOverrideSeconds?: number | undefined;
  readonly backoff?: BackoffPolicy;
  readonly keyOwner: { uid: number; gid: number };
  readonly log: (line: string) => void;
  /** Where the goal-state notices the agent channel brings go (HIMDS's board). */
  readonly notices?: GoalStateNotices;
}

export class HeartbeatLoop {
  private cancelTimer: (() => void) | undefined;
  private watcher: FSWatcher | undefined;
  private stopped = false;
  private running = false;
  private again = false;
  private failures = 0;
  private intervalMs: number;
  private credentialExpiresOn: string;
  private lastHeartbeat: string | undefined;
  private lastError: string | undefined;
  /** The newest journal entry the control plane has stored; kept in the status file. */
  private localChangesAcknowledged: number;
  /** The journal that sequence counts in: another one (deleted and created again) starts at 0. */
  private localChangesJournal: string;
  private readonly target: MachineTarget;
  private readonly channel: HeartbeatChannel | undefined;
  private readonly api: HeartbeatApi;

  constructor(private readonly options: HeartbeatOptions) {
    this.channel =
      options.api === undefined
        ? new HeartbeatChannel({
            clock: options.clock,
            random: options.random,
            log: options.log,
            ...(options.notices === undefined ? {} : { notices: options.notices }),
            // To keep the channel open for notices between heartbeats, as they would open it.
            current: async () => ({
              target: this.target,
              token: (await options.tokens.token(options.state.endpoint)).token,
            }),
          })
        : undefined;
    this.api = options.api ?? {
      heartbeat: (this.channel as HeartbeatChannel).heartbeat,
      rotateCredential: postRotateCredential,
    };
    this.intervalMs = (options.intervalOverrideSeconds ?? 300) * 1000;
    const status = readServiceStatus(options.paths.serviceStatus('himds'));
    this.credentialExpiresOn = status?.credentialExpiresOn ?? options.state.credentialExpiresOn;
    // Lost or reset, it is 0: changes are sent again, and the control plane stores each once.
    this.localChangesAcknowledged = status?.localChangesAcknowledged ?? 0;
    this.localChangesJournal = status?.localChangesJournal ?? '';
    const { state } = options;
    this.target = {
      endpoint: state.endpoint,
      ca: options.ca,
      egress: options.egress,
      subscriptionId: state.subscriptionId,
      resourceGroup: state.resourceGroup,
      resourceName: state.resourceName,
    };
  }

  start(): void {
    this.writeStatus();
    try {
      this.watcher = watch(this.options.paths.dataDir, (_event, file) => {
        if (file === 'localconfig.json') this.schedule(CHANGE_DEBOUNCE_MS);
      });
      this.watcher.on('error', () => undefined);
    } catch (error) {
      this.options.log(
        `cannot watch ${this.options.paths.dataDir}: ${(error as Error).message}; config changes wait for the next heartbeat`,
      );
    }
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.watcher?.close();
    this.channel?.close();
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.cancelTimer?.();
    this.cancelTimer = (this.options.scheduler ?? systemScheduler).schedule(
      delayMs,
      () => void this.beat(),
    );
  }

  private async beat(): Promise<void> {
    this.running = true;
    this.again = false;
    let next: number;
    try {
      const { answer, journal, sent, more } = await this.sendHeartbeat();
      const newest = sent.at(-1)?.sequence;
      if (answer.localChangesAcknowledged !== undefined && newest !== undefined) {
        // Never past what this heartbeat carried, and only for the journal it came from.
        this.localChangesAcknowledged = Math.min(answer.localChangesAcknowledged, newest);
        this.localChangesJournal = journal;
        if (more && this.localChangesAcknowledged === newest) this.again = true;
      }
      this.failures = 0;
      this.lastError = undefined;
      this.lastHeartbeat = new Date(this.options.clock.now()).toISOString();
      if (answer.credentialExpiresOn !== undefined)
        this.credentialExpiresOn = answer.credentialExpiresOn;
      if (
        this.options.intervalOverrideSeconds === undefined &&
        answer.heartbeatIntervalSeconds !== undefined
      ) {
        this.intervalMs = answer.heartbeatIntervalSeconds * 1000;
      }
      if (answer.rotationRequested || this.daysLeft() <= RENEW_WHEN_DAYS_LEFT) await this.rotate();
      next = this.intervalMs;
    } catch (error) {
      this.failures += 1;
      this.lastError = (error as Error).message;
      // Refused as a machine: no token cached before the refusal may be handed out any more;
      // HIMDS callers are answered with the reason until the control plane accepts it again.
      if (isTetherError(error) && error.code === 'ERR_AUTH_FAILED') this.options.tokens.forget();
      this.options.log(`heartbeat failed (${this.failures} in a row): ${this.lastError}`);
      // A busy control plane's Retry-After (503) is waited as asked, spread and capped,
      // rather than this agent's own backoff, which may come back sooner than it can take.
      next = Math.min(
        this.intervalMs,
        retryAfterDelay(retryAfterOf(error), this.options.clock.now(), this.options.random) ??
          fullJitterDelay(
            this.failures,
            this.options.backoff ?? DEFAULT_BACKOFF,
            this.options.random,
          ),
      );
    }
    this.writeStatus();
    this.running = false;
    this.schedule(this.again ? 0 : next);
  }

  private daysLeft(): number {
    return (Date.parse(this.credentialExpiresOn) - this.options.clock.now()) / DAY_MS;
  }

  private async sendHeartbeat(): Promise<{
    answer: Awaited<ReturnType<typeof postHeartbeat>>;
    journal: string;
    sent: LocalChange[];
    more: boolean;
  }> {
    const { tokens, paths, state } = this.options;
    const token = await tokens.token(state.endpoint);
    const loaded = loadLocalConfig(paths);
    const { journalId, changes, more } = this.pendingLocalChanges();
    const service = (name: 'gc' | 'extension'): { status: string; startupType: string } => ({
      status:
        readServiceStatus(paths.serviceStatus(name))?.status === 'running' ? 'Running' : 'Stopped',
      startupType: 'automatic',
    });
    const { agentVersion, osName, osVersion, osType, machineFqdn } = osFacts();
    const answer = await this.api.heartbeat(this.target, token.token, {
      agentVersion,
      osName,
      osVersion,
      osType,
      machineFqdn,
      serviceStatuses: {
        himds: { status: 'Running', startupType: 'automatic' },
        gcarcservice: service('gc'),
        extensionservice: service('extension'),
      },
      // A damaged file is reported by omission and as the service's error, never as defaults.
      ...(loaded.state === 'ok'
        ? { agentConfiguration: agentConfigurationReport(loaded.settings) }
        : {}),
      ...(changes.length > 0 ? { localChanges: changes } : {}),
      ...(changes.length > 0 && journalId !== '' ? { localChangesJournal: journalId } : {}),
    });
    return { answer, journal: journalId, sent: changes, more };
  }

  /** Oldest first, as many as one heartbeat carries; none when the journal cannot be read. */
  private pendingLocalChanges(): { journalId: string; changes: LocalChange[]; more: boolean } {
    try {
      return unacknowledgedLocalChanges(
        this.options.paths.localChangeJournal,
        (journalId) => (journalId === this.localChangesJournal ? this.localChangesAcknowledged : 0),
        MAX_LOCAL_CHANGES_PER_HEARTBEAT,
      );
    } catch (error) {
      this.options.log(`cannot report local changes: ${(error as Error).message}`);
      return { journalId: '', changes: [], more: false };
    }
  }

  /** The new key is written beside the old and replaces it only once the server accepted it. */
  private async rotate(): Promise<void> {
    const { tokens, paths, state, keyOwner, log } = this.options;
    const pendingPath = `${paths.machineKey}.new`;
    const key = generateMachineKey();
    writeMachineKey(pendingPath, key, keyOwner);
    try {
      const token = await tokens.token(state.endpoint);
      this.credentialExpiresOn = await this.api.rotateCredential(
        this.target,
        token.token,
        key.clientPublicKey,
      );
    } catch (error) {
      rmSync(pendingPath, { force: true });
      throw error;
    }
    // The old key stays, for opening protected settings sealed to it before the renewal.
    retireMachineKey(paths, parseMachineKey(readFileSync(paths.machineKey, 'utf8')), keyOwner);
    renameSync(pendingPath, paths.machineKey);
    tokens.useKey(key);
    tokens.forget();
    log(`machine credential renewed; valid until ${this.credentialExpiresOn}`);
  }

  private writeStatus(): void {
    try {
      writeServiceStatus(this.options.paths.serviceStatus('himds'), {
        service: 'himds',
        status: this.stopped ? 'stopped' : 'running',
        pid: process.pid,
        updatedAt: new Date(this.options.clock.now()).toISOString(),
        lastHeartbeat: this.lastHeartbeat,
        lastError: this.lastError,
        credentialExpiresOn: this.credentialExpiresOn,
        localChangesAcknowledged: this.localChangesAcknowledged,
        localChangesJournal: this.localChangesJournal,
      });
    } catch (error) {
      this.options.log(`cannot write the status file: ${(error as Error).message}`);
    }
  }

  /** For shutdown: the last word in the status file is "stopped". */
  markStopped(): void {
    this.stop();
    this.writeStatus();
  }
}
