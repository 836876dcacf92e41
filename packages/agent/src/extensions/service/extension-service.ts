// The extension service (`azcmagent service run extension`): long-polls the goal state, has the
// reconciler carry it out under the local policy, sends status reports, and follows
// localconfig.json — `extensions.enabled false` (or an unusable file) stops the hosted
// extension processes and refuses operations until it is enabled again (S11).
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AgentUpgrader } from '../../agent-upgrade/agent-upgrader.js';
import type { Clock } from '../../clock.js';
import { loadLocalConfig, type LoadedConfig } from '../../config/local-config-file.js';
import { effectiveSettings } from '../../effective-settings.js';
import type { BackoffPolicy } from '../../himds/backoff.js';
import { findRetiredKey } from '../../identity/retired-keys.js';
import type { AgentPaths } from '../../paths.js';
import { systemScheduler, type Scheduler } from '../../scheduler.js';
import type { ExtensionHost } from '../extension-host.js';
import { FileWatcher } from './file-watcher.js';
import type { ExtensionApi } from './extension-api.js';
import type { GoalState } from './goal-state.js';
import { GoalStatePoller, type GoalStateSource } from './goal-state-poller.js';
import type { Credential } from './machine-credential.js';
import { Reconciler } from './reconciler.js';
import { ReportQueue } from './report-queue.js';

const STATUS_REFRESH_MS = 60_000;

export interface ExtensionServiceOptions {
  readonly paths: AgentPaths;
  readonly host: ExtensionHost;
  readonly api: ExtensionApi;
  /** Where the goal state comes from (notices through HIMDS, else long polls); `api` if none. */
  readonly goalStates?: GoalStateSource<GoalState>;
  readonly credential: Pick<Credential, 'currentKey'>;
  readonly clock: Clock;
  readonly scheduler?: Scheduler;
  readonly random: () => number;
  readonly backoff?: BackoffPolicy;
  readonly log: (line: string) => void;
  /** Who must own localconfig.json: root (the default) on a server. */
  readonly configOwnerUid?: number;
  /** Once, after the first goal-state request was answered or failed. */
  readonly onReady?: () => void;
  /** Carries out the goal state's agent upgrade; none in tests that do not need one. */
  readonly upgrader?: AgentUpgrader;
  /** The service status file (`azcmagent show`, heartbeats). */
  readonly writeStatus?: (status: 'running' | 'stopped', lastError: string | undefined) => void;
}

export class ExtensionService {
  private readonly poller: GoalStatePoller<GoalState>;
  private readonly reconciler: Reconciler;
  private readonly reports: ReportQueue;
  private readonly configWatcher: FileWatcher;
  private readonly stateWatcher: FileWatcher;
  private readonly scheduler: Scheduler;
  private active = false;
  private started = false;
  private stopped = false;
  private ready = false;
  private configChange: Promise<void> = Promise.resolve();
  private lastWrittenError: string | undefined;
  private cancelRefresh: (() => void) | undefined;

  constructor(private readonly options: ExtensionServiceOptions) {
    const { api, clock, log, random, backoff } = options;
    this.scheduler = options.scheduler ?? systemScheduler;
    const scheduler = this.scheduler;
    this.reports = new ReportQueue({ api, scheduler, random, log, ...backoffOf(backoff) });
    this.reconciler = new Reconciler({
      host: options.host,
      loadConfig: () => this.loadConfig(),
      credential: options.credential,
      retiredKey: (keyId) => findRetiredKey(options.paths, keyId),
      fetchPackage: (identity) => api.fetchPackage(identity),
      report: (report) => this.reports.send(report),
      clock,
      log,
    });
    this.poller = new GoalStatePoller({
      api: options.goalStates ?? api,
      clock,
      scheduler,
      random,
      log,
      ...backoffOf(backoff),
      onGoalState: (state) => {
        this.reconciler.update(state);
        options.upgrader?.update(state.agentUpgrade ?? null);
      },
      onAttempt: (error) => this.attempted(error),
    });
    const { paths } = options;
    this.configWatcher = new FileWatcher(
      paths.localConfig,
      scheduler,
      () => this.configChanged(),
      log,
    );
    // `azcmagent extension remove` is reported without waiting for the next goal state.
    this.stateWatcher = new FileWatcher(
      paths.extensionStateFile,
      scheduler,
      () => this.reconciler.recheck(),
      log,
    );
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    const loaded = this.loadConfig();
    this.active = managerActive(loaded);
    if (this.active) this.startHosted();
    else this.options.log(`extension management is off: ${whyInactive(loaded)}`);
    this.writeStatus();
    try {
      mkdirSync(dirname(this.options.paths.extensionStateFile), { recursive: true, mode: 0o755 });
    } catch {
      // the watcher says it cannot watch; the next goal state still notices local removals
    }
    this.configWatcher.start();
    this.stateWatcher.start();
    this.poller.start();
  }

  /** Stops polling (aborting a poll in flight) and every hosted process. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.poller.stop();
    this.configWatcher.stop();
    this.stateWatcher.stop();
    this.reconciler.stop();
    this.options.upgrader?.stop();
    this.reports.stop();
    this.cancelRefresh?.();
    await this.configChange;
    try {
      await this.options.host.stopHosted();
    } catch (error) {
      this.options.log(`stopping hosted extension processes failed: ${(error as Error).message}`);
    }
    this.writeStatus();
  }

  /** For tests: every goal state handed over and every report sent (or waiting to be retried). */
  async settled(): Promise<void> {
    await this.configChange;
    await this.reconciler.idle();
    await this.options.upgrader?.idle();
    await this.reports.idle();
  }

  /** The config watcher's entry point; tests call it instead of waiting for the file system. */
  configChanged(): void {
    this.configChange = this.configChange.then(() => this.followConfig());
  }

  private async followConfig(): Promise<void> {
    if (this.stopped) return;
    const loaded = this.loadConfig();
    const active = managerActive(loaded);
    if (active !== this.active) {
      this.active = active;
      if (active) {
        this.options.log('extension management is on again: hosted extension processes start');
        this.startHosted();
      } else {
        this.options.log(
          `extension management is off: ${whyInactive(loaded)}; hosted extension processes stop, installed extensions stay`,
        );
        try {
          await this.options.host.stopHosted();
        } catch (error) {
          this.options.log(
            `stopping hosted extension processes failed: ${(error as Error).message}`,
          );
        }
      }
    }
    // Lists may have changed too: an installed extension held back may now catch up.
    this.reconciler.reevaluate();
  }

  private startHosted(): void {
    try {
      this.options.host.startHosted();
    } catch (error) {
      this.options.log(`starting hosted extension processes failed: ${(error as Error).message}`);
    }
  }

  private loadConfig(): LoadedConfig {
    const uid = this.options.configOwnerUid;
    return loadLocalConfig(this.options.paths, uid === undefined ? {} : { trustedOwnerUid: uid });
  }

  private attempted(error: string | undefined): void {
    // The first answer also says how goal-state changes come (notice or long poll).
    if (error !== this.lastWrittenError || !this.ready) this.writeStatus();
    if (this.ready) return;
    this.ready = true;
    this.options.onReady?.();
  }

  /** Now, and every minute while running, so the file's updatedAt shows the service is alive. */
  private writeStatus(): void {
    this.cancelRefresh?.();
    this.cancelRefresh = undefined;
    const error = this.poller.error;
    this.lastWrittenError = error;
    try {
      this.options.writeStatus?.(this.stopped ? 'stopped' : 'running', error);
    } catch (failure) {
      this.options.log(`cannot write the status file: ${(failure as Error).message}`);
    }
    if (this.stopped) return;
    this.cancelRefresh = this.scheduler.schedule(STATUS_REFRESH_MS, () => this.writeStatus());
  }
}

function managerActive(loaded: LoadedConfig): boolean {
  return loaded.state === 'ok' && effectiveSettings(loaded.settings).extensionsEnabled;
}

function whyInactive(loaded: LoadedConfig): string {
  return loaded.state === 'corrupt'
    ? `${loaded.paths.localConfig} cannot be used (${loaded.reason}); installs, updates and upgrades are refused until it is repaired`
    : 'extensions.enabled is false in the local configuration';
}

function backoffOf(backoff: BackoffPolicy | undefined): { backoff?: BackoffPolicy } {
  return backoff === undefined ? {} : { backoff };
}
