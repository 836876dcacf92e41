// The guest configuration service (`azcmagent service run gc`): long-polls the goal state,
// evaluates each assignment on its schedule and at once when it is new, changed or asked for
// (ApplyAndAutoCorrect correcting drift every time, ApplyAndMonitor applying once per version of
// the assignment and then only reporting drift), and sends the reports. It follows localconfig.json every cycle (off: nothing downloaded or
// evaluated, the control plane told why) and keeps working from its disk cache for 14 days
// without contact, queueing what it reports.
import { randomUUID } from 'node:crypto';
import type {
  GuestConfigurationAssignmentReport,
  GuestConfigurationGoalAssignment,
  GuestConfigurationGoalState,
} from '@tether/protocol';
import type { Clock } from '../../clock.js';
import { loadLocalConfig, type LoadedConfig } from '../../config/local-config-file.js';
import { effectiveSettings } from '../../effective-settings.js';
import { FileWatcher } from '../../extensions/service/file-watcher.js';
import {
  GoalStatePoller,
  type GoalStateSource,
} from '../../extensions/service/goal-state-poller.js';
import type { BackoffPolicy } from '../../himds/backoff.js';
import type { AgentPaths } from '../../paths.js';
import type { Scheduler } from '../../scheduler.js';
import { evaluateAssignment, type AssignmentEvaluatorOptions } from './assignment-evaluator.js';
import { GcCache, type AssignmentMemory } from './gc-cache.js';
import type { GuestConfigurationApi } from './guest-configuration-api.js';
import { ReportOutbox } from './report-outbox.js';

export const MAX_ASSIGNMENTS = 50;
export const OFFLINE_LIMIT_MS = 14 * 24 * 3_600_000;
/** How often a cycle runs when nothing is due sooner: the local switch is read at least this often. */
const IDLE_CYCLE_MS = 15 * 60_000;
const STATUS_REFRESH_MS = 60_000;

export interface GcServiceStatus {
  readonly status: 'running' | 'stopped';
  readonly lastError: string | undefined;
  /** Why nothing is evaluated: the local switch, or 14 days without contact. */
  readonly detail: string | undefined;
}

export interface GuestConfigurationServiceOptions {
  readonly paths: AgentPaths;
  readonly api: GuestConfigurationApi;
  /** Where the goal state comes from (notices through HIMDS, else long polls); `api` if none. */
  readonly goalStates?: GoalStateSource<GuestConfigurationGoalState>;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly random: () => number;
  readonly backoff?: BackoffPolicy;
  readonly log: (line: string) => void;
  readonly evaluator: Omit<AssignmentEvaluatorOptions, 'cache' | 'api' | 'log' | 'root'>;
  /** Who must own localconfig.json: root on a server. */
  readonly configOwnerUid: number;
  /** Replaces every assignment's frequencyMinutes (tests). */
  readonly frequencyOverrideMs?: number;
  readonly onReady?: () => void;
  readonly writeStatus?: (status: GcServiceStatus) => void;
}

interface Scheduled {
  readonly assignment: GuestConfigurationGoalAssignment;
  readonly key: string;
  dueAt: number;
}

export class GuestConfigurationService {
  private readonly cache: GcCache;
  private readonly outbox: ReportOutbox;
  private readonly poller: GoalStatePoller<GuestConfigurationGoalState>;
  private readonly memory: Map<string, AssignmentMemory>;
  private readonly configWatcher: FileWatcher;
  private readonly scheduled = new Map<string, Scheduled>();
  private goalState: GuestConfigurationGoalState | undefined;
  private lastContactAt: number | undefined;
  private detail: string | undefined;
  private disabledReason: string | undefined;
  private cycle: Promise<void> = Promise.resolve();
  private cycleQueued = false;
  private cancelCycle: (() => void) | undefined;
  private cancelRefresh: (() => void) | undefined;
  private stopped = false;
  private ready = false;
  private lastWrittenError: string | undefined;

  constructor(private readonly options: GuestConfigurationServiceOptions) {
    const { paths, api, scheduler, random, log, backoff } = options;
    this.cache = new GcCache(paths, log);
    this.memory = this.cache.readMemory();
    const policy = backoff === undefined ? {} : { backoff };
    this.outbox = new ReportOutbox({
      dir: paths.guestConfigOutboxDir,
      api,
      scheduler,
      random,
      log,
      ...policy,
    });
    this.poller = new GoalStatePoller({
      api: options.goalStates ?? api,
      clock: options.clock,
      scheduler,
      random,
      log,
      ...policy,
      onGoalState: (state) => this.received(state),
      onAttempt: (error) => this.attempted(error),
    });
    // The local switch takes effect at once, not only at the next cycle.
    this.configWatcher = new FileWatcher(paths.localConfig, scheduler, () => this.runCycle(), log);
  }

  start(): void {
    const cached = this.cache.readGoalState();
    if (cached !== undefined) {
      this.lastContactAt = cached.lastContactAt;
      this.adopt(cached.goalState);
      this.options.log(
        `working from the cached goal state (generation ${cached.goalState.generation}, ${cached.goalState.assignments.length} assignment(s)) until the control plane answers`,
      );
    }
    this.writeStatus();
    this.configWatcher.start();
    this.poller.start();
    this.runCycle();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.poller.stop();
    this.configWatcher.stop();
    this.cancelCycle?.();
    this.cancelRefresh?.();
    await this.cycle;
    this.outbox.stop();
    this.writeStatus();
  }

  /** For tests: the cycle in progress done and every report sent or waiting out a backoff. */
  async settled(): Promise<void> {
    await this.cycle;
    await this.outbox.idle();
  }

  /** What waits to be sent (tests, status). */
  get queued(): number {
    return this.outbox.size;
  }

  /** Runs a cycle now (after the goal state or localconfig.json changed); cycles never overlap. */
  runCycle(): void {
    if (this.stopped || this.cycleQueued) return;
    this.cycleQueued = true;
    this.cancelCycle?.();
    this.cancelCycle = undefined;
    this.cycle = this.cycle.then(async () => {
      this.cycleQueued = false;
      if (this.stopped) return;
      try {
        await this.evaluateDue();
      } catch (error) {
        this.options.log(`the evaluation cycle failed: ${(error as Error).message}`);
      }
      this.scheduleNextCycle();
    });
  }

  private received(state: GuestConfigurationGoalState): void {
    const now = this.options.clock.now();
    const changed = state.generation !== this.goalState?.generation;
    const wasExpired = this.offlineFor(now) !== undefined;
    this.lastContactAt = now;
    try {
      this.cache.writeGoalState({ goalState: state, lastContactAt: now });
    } catch (error) {
      this.options.log(`cannot keep the goal state on disk: ${(error as Error).message}`);
    }
    this.outbox.retryNow();
    if (!changed && !wasExpired) return;
    if (changed) this.adopt(state);
    // The control plane learns again why nothing is evaluated when it sends new assignments.
    if (changed && this.disabledReason !== undefined) {
      this.outbox.add({ disabledReason: this.disabledReason, reports: [] });
    }
    this.runCycle();
  }

  private adopt(state: GuestConfigurationGoalState): void {
    this.goalState = state;
    const now = this.options.clock.now();
    const names = new Set(state.assignments.map((a) => a.name));
    for (const name of [...this.scheduled.keys()])
      if (!names.has(name)) this.scheduled.delete(name);
    for (const name of [...this.memory.keys()]) if (!names.has(name)) this.memory.delete(name);
    for (const assignment of state.assignments) {
      const key = keyOf(assignment);
      const known = this.scheduled.get(assignment.name);
      const asked =
        assignment.evaluationRequest > (this.memory.get(assignment.name)?.evaluationRequest ?? 0);
      if (known === undefined || known.key !== key) {
        this.scheduled.set(assignment.name, { assignment, key, dueAt: now });
      } else {
        this.scheduled.set(assignment.name, {
          assignment,
          key,
          dueAt: asked ? now : known.dueAt,
        });
      }
    }
    this.cache.prunePackages(new Set(state.assignments.map((a) => a.contentHash)));
    this.saveMemory();
  }

  private async evaluateDue(): Promise<void> {
    const now = this.options.clock.now();
    const disabled = this.localSwitch();
    if (disabled !== this.disabledReason) {
      if (disabled !== undefined) {
        this.options.log(`guest configuration is off: ${disabled}`);
        this.outbox.add({ disabledReason: disabled, reports: [] });
      } else {
        this.options.log('guest configuration is on again: every assignment is evaluated now');
        for (const entry of this.scheduled.values()) entry.dueAt = now;
      }
      this.disabledReason = disabled;
    }
    const offline = disabled === undefined ? this.offlineFor(now) : undefined;
    if (offline !== undefined && this.detail !== offline) this.options.log(offline);
    this.setDetail(disabled ?? offline);
    if (disabled !== undefined || offline !== undefined) return;

    const entries = [...this.scheduled.values()];
    for (const [index, entry] of entries.entries()) {
      if (this.stopped || entry.dueAt > this.options.clock.now()) continue;
      const startedAt = this.options.clock.now();
      const applyKey = applyKeyOf(entry.assignment);
      const applied = this.memory.get(entry.assignment.name)?.appliedKey === applyKey;
      const outcome =
        index < MAX_ASSIGNMENTS
          ? await evaluateAssignment(entry.assignment, {
              ...this.options.evaluator,
              root: this.options.paths.root,
              cache: this.cache,
              api: this.options.api,
              log: this.options.log,
              applied,
            })
          : ({
              kind: 'failed',
              code: 'ERR_TOO_MANY_ASSIGNMENTS',
              message: `This machine has ${entries.length} guest configuration assignments; at most ${MAX_ASSIGNMENTS} are evaluated, and this one is beyond them. Remove assignments to bring the count to ${MAX_ASSIGNMENTS} or fewer.`,
            } as const);
      if (this.stopped || this.scheduled.get(entry.assignment.name) !== entry) continue;
      const report = this.reportOf(entry.assignment, outcome, startedAt);
      // ApplyAndMonitor is applied once per version of the assignment, then only monitors.
      if (outcome.kind === 'evaluated' && entry.assignment.assignmentType === 'ApplyAndMonitor') {
        const known = this.memory.get(entry.assignment.name);
        if (known !== undefined)
          this.memory.set(entry.assignment.name, { ...known, appliedKey: applyKey });
      }
      this.outbox.add({ reports: [report] });
      if (outcome.kind === 'failed')
        this.options.log(`${entry.assignment.name}: ${outcome.message}`);
      else
        this.options.log(
          `${entry.assignment.name}: ${report.complianceStatus} (${report.operationType})`,
        );
      entry.dueAt = startedAt + this.frequencyMs(entry.assignment);
    }
    this.saveMemory();
  }

  private reportOf(
    assignment: GuestConfigurationGoalAssignment,
    outcome: Awaited<ReturnType<typeof evaluateAssignment>>,
    startedAt: number,
  ): GuestConfigurationAssignmentReport {
    const known = this.memory.get(assignment.name);
    const evaluated = outcome.kind === 'evaluated';
    this.memory.set(assignment.name, {
      evaluated: (known?.evaluated ?? false) || evaluated,
      evaluationRequest: assignment.evaluationRequest,
      ...(known?.appliedKey === undefined ? {} : { appliedKey: known.appliedKey }),
    });
    return {
      assignmentName: assignment.name,
      reportId: randomUUID(),
      configurationName: assignment.configurationName,
      version: assignment.version,
      evaluationRequest: assignment.evaluationRequest,
      startTime: new Date(startedAt).toISOString(),
      endTime: new Date(this.options.clock.now()).toISOString(),
      operationType: known?.evaluated === true ? 'Consistency' : 'Initial',
      complianceStatus: evaluated ? outcome.report.complianceStatus : 'NonCompliant',
      resources: evaluated
        ? outcome.report.rules.map((rule) => ({
            resourceId: rule.id,
            complianceStatus: rule.complianceStatus,
            reasons: rule.reasons,
          }))
        : [
            {
              resourceId: assignment.configurationName,
              complianceStatus: 'NonCompliant',
              reasons: [{ code: outcome.code, phrase: outcome.message }],
            },
          ],
    };
  }

  private scheduleNextCycle(): void {
    if (this.stopped) return;
    const now = this.options.clock.now();
    let next = now + IDLE_CYCLE_MS;
    if (this.detail === undefined) {
      for (const entry of this.scheduled.values()) next = Math.min(next, entry.dueAt);
    }
    this.cancelCycle = this.options.scheduler.schedule(Math.max(0, next - now), () => {
      this.cancelCycle = undefined;
      this.runCycle();
    });
  }

  /** Why the local configuration turns guest configuration off, or undefined when it is on. */
  private localSwitch(): string | undefined {
    const loaded: LoadedConfig = loadLocalConfig(this.options.paths, {
      trustedOwnerUid: this.options.configOwnerUid,
    });
    if (loaded.state === 'corrupt') {
      return `the local configuration file ${loaded.paths.localConfig} cannot be used (${loaded.reason}); guest configuration stays off until it is repaired ('sudo azcmagent config clear')`;
    }
    const settings = effectiveSettings(loaded.settings);
    if (settings.mode === 'monitor') {
      return "guest configuration is disabled on this machine: config.mode is monitor (change it with 'sudo azcmagent config set config.mode full')";
    }
    if (!settings.guestConfigurationEnabled) {
      return "guest configuration is disabled on this machine: guestconfiguration.enabled is false (change it with 'sudo azcmagent config set guestconfiguration.enabled true')";
    }
    return undefined;
  }

  private offlineFor(now: number): string | undefined {
    if (this.lastContactAt === undefined || this.goalState === undefined) return undefined;
    if (now - this.lastContactAt < OFFLINE_LIMIT_MS) return undefined;
    return `evaluation stopped: the control plane has not been reached since ${new Date(this.lastContactAt).toISOString()}, and cached assignments are used for 14 days at most; it resumes when the control plane answers`;
  }

  private frequencyMs(assignment: GuestConfigurationGoalAssignment): number {
    return this.options.frequencyOverrideMs ?? assignment.frequencyMinutes * 60_000;
  }

  private saveMemory(): void {
    try {
      this.cache.writeMemory(this.memory);
    } catch (error) {
      this.options.log(`cannot keep the assignment state on disk: ${(error as Error).message}`);
    }
  }

  private setDetail(detail: string | undefined): void {
    if (detail === this.detail) return;
    this.detail = detail;
    this.writeStatus();
  }

  private attempted(error: string | undefined): void {
    // The first answer also says how goal-state changes come (notice or long poll).
    if (error !== this.lastWrittenError || !this.ready) this.writeStatus(error);
    if (this.ready) return;
    this.ready = true;
    this.options.onReady?.();
  }

  private writeStatus(error = this.poller.error): void {
    this.lastWrittenError = error;
    this.cancelRefresh?.();
    this.cancelRefresh = undefined;
    try {
      this.options.writeStatus?.({
        status: this.stopped ? 'stopped' : 'running',
        lastError: error,
        detail: this.detail,
      });
    } catch (failure) {
      this.options.log(`cannot write the status file: ${(failure as Error).message}`);
    }
    if (this.stopped) return;
    this.cancelRefresh = this.options.scheduler.schedule(STATUS_REFRESH_MS, () =>
      this.writeStatus(),
    );
  }
}

/**
 * What, when it changes, makes an ApplyAndMonitor assignment apply again: its content, parameters
 * and type, not its schedule.
 */
function applyKeyOf(a: GuestConfigurationGoalAssignment): string {
  return JSON.stringify([
    a.configurationName,
    a.version,
    a.contentHash,
    a.publisher,
    a.assignmentType,
    a.parameters,
  ]);
}

/** What, when it changes, makes an assignment new again: evaluated at once. */
function keyOf(a: GuestConfigurationGoalAssignment): string {
  return JSON.stringify([applyKeyOf(a), a.frequencyMinutes]);
}
