// The extension service's agent upgrades (docs/agent-upgrade.md): for the goal state's
// `agentUpgrade`, decide (local setting, the publisher's signature against the keys root trusts
// here, version order, packaged or not), download the package from the control plane, verify its
// signature over the bytes and check its control fields before anything is written for dpkg, have
// dpkg install it, and report the outcome — kept on disk until the control plane has it.
import { createHash, type KeyObject } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentUpgradeGoal, AgentUpgradeReport } from '@tether/protocol/agent-upgrade';
import {
  verifyAgentPackage,
  verifyAgentPackageStatement,
} from '@tether/protocol/extension-package';
import type { Clock } from '../clock.js';
import type { LoadedConfig } from '../config/local-config-file.js';
import type { Scheduler } from '../scheduler.js';
import type { DebFields, InstallResult } from './dpkg-installer.js';
import { decideUpgrade, type SignatureVerdict } from './upgrade-decision.js';
import { readUpgradeRecord, writeUpgradeRecord, type UpgradeRecord } from './upgrade-record.js';

const REPORT_RETRY_MS = 60_000;

export interface AgentUpgraderOptions {
  /** `var/opt/azcmagent`: the record and the download folder live there. */
  readonly dataDir: string;
  readonly api: {
    fetchAgentPackage(downloadPath: string, maxBytes: number): Promise<Buffer>;
    reportAgentUpgrade(report: AgentUpgradeReport): Promise<void>;
  };
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly log: (line: string) => void;
  readonly loadConfig: () => LoadedConfig;
  readonly runningVersion: string;
  /** Where the agent runs from when that is not the installed package; undefined when it is. */
  readonly notPackaged: string | undefined;
  /** The keys root trusts for agent packages, read afresh for each goal. */
  readonly trustedKeys: () => KeyObject[];
  readonly readFields: (deb: string) => Promise<DebFields>;
  readonly install: (deb: string, unitName: string) => Promise<InstallResult>;
}

export class AgentUpgrader {
  private chain: Promise<void> = Promise.resolve();
  private cancelRetry: (() => void) | undefined;
  private stopped = false;

  constructor(private readonly options: AgentUpgraderOptions) {}

  get recordFile(): string {
    return join(this.options.dataDir, 'agent-upgrade.json');
  }

  /** Each goal state's `agentUpgrade`, in order; one attempt at a time. */
  update(goal: AgentUpgradeGoal | null): void {
    this.chain = this.chain
      .then(() => this.follow(goal))
      .catch((error: unknown) => {
        this.options.log(`agent upgrade: ${(error as Error).message}`);
      });
  }

  idle(): Promise<void> {
    return this.chain;
  }

  stop(): void {
    this.stopped = true;
    this.cancelRetry?.();
  }

  private async follow(goal: AgentUpgradeGoal | null): Promise<void> {
    if (this.stopped) return;
    const { options } = this;
    const record = readUpgradeRecord(this.recordFile);
    const keys = goal === null ? [] : options.trustedKeys();
    const decision = decideUpgrade({
      goal,
      runningVersion: options.runningVersion,
      notPackaged: options.notPackaged,
      config: options.loadConfig(),
      record,
      signature: goal === null ? { kind: 'no-keys' } : await checkSignature(goal, keys),
    });
    if (goal !== null && decision.kind === 'report') {
      this.finish(goal, decision.status, decision.message);
    } else if (goal !== null && decision.kind === 'install') {
      await this.install(goal, keys);
    }
    await this.sendPending();
  }

  private async install(goal: AgentUpgradeGoal, keys: readonly KeyObject[]): Promise<void> {
    const { options } = this;
    options.log(`agent upgrade: downloading version ${goal.version} (${goal.size} bytes)`);
    const folder = join(options.dataDir, 'upgrade');
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    const file = join(folder, `azcmagent_${goal.version.replace(/[^A-Za-z0-9.+~-]/g, '_')}.deb`);
    try {
      let bytes: Buffer;
      try {
        bytes = await options.api.fetchAgentPackage(goal.downloadPath, goal.size + 1);
      } catch (error) {
        this.finish(
          goal,
          'Failed',
          `The package could not be downloaded: ${(error as Error).message}`,
        );
        return;
      }
      const digest = createHash('sha256').update(bytes).digest('hex');
      if (bytes.byteLength !== goal.size || digest !== goal.sha256) {
        this.finish(
          goal,
          'Failed',
          `The downloaded package is not the one published (${bytes.byteLength} bytes, SHA-256 ${digest}; expected ${goal.size} bytes, ${goal.sha256}); nothing was installed.`,
        );
        return;
      }
      // The signature once more, over the bytes themselves, before anything is written.
      try {
        await verifyAgentPackage(goal.signature, keys, goal.version, bytes);
      } catch (error) {
        this.finish(
          goal,
          'Failed',
          `Refused on the machine: the package's signature is not accepted (${(error as Error).message}); nothing was installed.`,
        );
        return;
      }
      writeFileSync(file, bytes, { mode: 0o600 });
      let fields: DebFields;
      try {
        fields = await options.readFields(file);
      } catch (error) {
        this.finish(
          goal,
          'Failed',
          `The package cannot be read by dpkg-deb: ${(error as Error).message}`,
        );
        return;
      }
      if (fields.package !== 'azcmagent' || fields.version !== goal.version) {
        this.finish(
          goal,
          'Failed',
          `The package is ${fields.package} ${fields.version}, not azcmagent ${goal.version}; nothing was installed.`,
        );
        return;
      }
      // Written before dpkg starts: if the package restarts this service, the next one reports.
      writeUpgradeRecord(this.recordFile, {
        correlationId: goal.correlationId,
        version: goal.version,
        state: 'installing',
        reported: false,
      });
      options.log(`agent upgrade: installing version ${goal.version}`);
      const result = await options.install(
        file,
        `azcmagent-upgrade-${goal.correlationId.slice(0, 8)}`,
      );
      if (!result.ok) {
        this.finish(goal, 'Failed', `${result.message}.`);
        return;
      }
      this.finish(
        goal,
        'Success',
        result.underSystemd
          ? `Version ${goal.version} is installed and its services restarted.`
          : `Version ${goal.version} is installed; its services run it once they are restarted (this machine has no systemd to restart them).`,
      );
    } finally {
      rmSync(file, { force: true });
    }
  }

  private finish(goal: AgentUpgradeGoal, status: 'Success' | 'Failed', message: string): void {
    this.options.log(`agent upgrade to ${goal.version}: ${status}: ${message}`);
    const record: UpgradeRecord = {
      correlationId: goal.correlationId,
      version: goal.version,
      state: 'done',
      report: {
        desiredVersion: goal.version,
        correlationId: goal.correlationId,
        status,
        message,
        timestamp: new Date(this.options.clock.now()).toISOString(),
      },
      reported: false,
    };
    writeUpgradeRecord(this.recordFile, record);
  }

  /** Sends the recorded outcome the control plane does not have yet; retries later on failure. */
  private async sendPending(): Promise<void> {
    const record = readUpgradeRecord(this.recordFile);
    if (record === undefined || record.reported || record.report === undefined) return;
    try {
      await this.options.api.reportAgentUpgrade(record.report);
    } catch (error) {
      this.options.log(`agent upgrade: the report waits: ${(error as Error).message}`);
      this.cancelRetry?.();
      this.cancelRetry = this.options.scheduler.schedule(REPORT_RETRY_MS, () => {
        this.chain = this.chain.then(() => this.sendPending());
      });
      return;
    }
    writeUpgradeRecord(this.recordFile, { ...record, reported: true });
  }
}

/** The goal's signature against the keys trusted here, before anything is downloaded. */
async function checkSignature(
  goal: AgentUpgradeGoal,
  keys: readonly KeyObject[],
): Promise<SignatureVerdict> {
  if (keys.length === 0) return { kind: 'no-keys' };
  try {
    await verifyAgentPackageStatement(goal.signature, keys, goal);
    return { kind: 'verified' };
  } catch (error) {
    return { kind: 'refused', reason: (error as Error).message };
  }
}
