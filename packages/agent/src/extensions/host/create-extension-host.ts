// The extension handler host (runs as root in the extension service, and in `azcmagent extension
// remove`): one operation at a time per process, and across processes through the state lock.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { withFileLock } from '../../config/file-lock.js';
import { AgentError } from '../../errors.js';
import type {
  DesiredExtension,
  ExtensionHost,
  ExtensionHostOptions,
  InstalledExtension,
  OperationOutcome,
  OperationPermit,
  PackageFetcher,
} from '../extension-host.js';
import { createCpuLimiter, type CpuLimiter, type CpuLimitReport } from './cgroup.js';
import { applyExtension, removeExtension } from './extension-lifecycle.js';
import { readExtensionState, updateExtensionRecord } from './extension-state.js';
import { InstalledHandler } from './handler-commands.js';
import type { HandlerContext } from './handler-context.js';
import { HostedProcesses, type HostedTimings } from './hosted-processes.js';
import { failedFromError } from './outcomes.js';
import { trustedOwnerUid } from './trusted-owner.js';
import type { ExtractLimits } from './zip-extract.js';

/** What tests (and nothing else) may change. */
export interface ExtensionHostInternals {
  /** A fake cgroup v2 hierarchy instead of /sys/fs/cgroup. */
  readonly cgroupRoot?: string;
  readonly hostedTimings?: HostedTimings;
  readonly extractLimits?: ExtractLimits;
  /** The environment handlers inherit (secrets removed); process.env by default. */
  readonly baseEnv?: NodeJS.ProcessEnv;
  /** How long an operation waits for another process's operation to finish. */
  readonly lockTimeoutMs?: number;
  /** Wraps the CPU limiter, which is asked for every command just before it is started. */
  readonly wrapLimiter?: (limiter: CpuLimiter) => CpuLimiter;
}

export interface TetherExtensionHost extends ExtensionHost {
  /** Whether extensions.agent.cpulimit is in force, and if not, why (for the service status). */
  cpuLimit(): CpuLimitReport;
}

const DEFAULT_COMMAND_TIMEOUT_MS = 5 * 60 * 1000;
/** Long enough for another process's update (several commands of up to 5 minutes each). */
const DEFAULT_LOCK_TIMEOUT_MS = 30 * 60 * 1000;
const RESOURCE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/;

export function createExtensionHost(
  options: ExtensionHostOptions & ExtensionHostInternals,
): TetherExtensionHost {
  const { paths, clock, log } = options;
  const realLimiter = createCpuLimiter({
    percent: options.cpuLimitPercent,
    log,
    ...(options.cgroupRoot === undefined ? {} : { cgroupRoot: options.cgroupRoot }),
  });
  const limiter = options.wrapLimiter?.(realLimiter) ?? realLimiter;
  const isEnabled = (name: string): boolean => {
    try {
      const record = readExtensionState(paths)[name];
      return record?.state === 'enabled' && record.removedLocallyAt === undefined;
    } catch {
      return false; // a damaged state file: nothing is restarted
    }
  };
  const hosted = new HostedProcesses({
    limiter,
    clock,
    log,
    pidDir: join(dirname(paths.extensionStateFile), 'hosted'),
    shouldRun: isEnabled,
    ...(options.hostedTimings === undefined ? {} : { timings: options.hostedTimings }),
  });
  const context: HandlerContext = {
    paths,
    clock,
    log,
    env: {
      himdsPort: options.himdsPort,
      endpoint: options.endpoint,
      resourceId: options.resourceId,
      caFile: options.caFile,
      ...(options.proxyEnv === undefined ? {} : { proxyEnv: options.proxyEnv }),
    },
    baseEnv: options.baseEnv ?? process.env,
    limiter,
    hosted,
    commandTimeoutMs: options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
    ownerUid: trustedOwnerUid(paths),
    extractLimits: options.extractLimits,
  };

  let queue: Promise<unknown> = Promise.resolve();
  /** One operation at a time: in this process by the queue, across processes by the lock file. */
  const exclusive = (work: () => Promise<OperationOutcome>): Promise<OperationOutcome> => {
    const run = queue.then(async () => {
      try {
        mkdirSync(dirname(paths.extensionStateLock), { recursive: true, mode: 0o755 });
        return await withFileLock(paths.extensionStateLock, work, {
          clock,
          timeoutMs: options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
          pollMs: 100,
        });
      } catch (error) {
        return failedFromError(error, clock.now());
      }
    });
    queue = run;
    return run;
  };

  return {
    apply(
      desired: DesiredExtension,
      fetch: PackageFetcher,
      permit?: OperationPermit,
    ): Promise<OperationOutcome> {
      if (!RESOURCE_NAME.test(desired.name)) {
        return Promise.resolve(
          failedFromError(
            new AgentError('ERR_INVALID_VALUE', `"${desired.name}" is not a valid extension name.`),
            clock.now(),
          ),
        );
      }
      return exclusive(async () => {
        return applyExtension(context, desired, fetch, permit ?? (() => undefined));
      });
    },
    remove(name: string, removeOptions?: { readonly local?: boolean }): Promise<OperationOutcome> {
      return exclusive(async () => {
        return removeExtension(context, name, removeOptions?.local === true);
      });
    },
    forget(name: string): void {
      const record = readExtensionState(paths)[name];
      if (record?.removedLocallyAt !== undefined) updateExtensionRecord(paths, name, undefined);
    },
    installed(): readonly InstalledExtension[] {
      return Object.values(readExtensionState(paths)).sort((a, b) => a.name.localeCompare(b.name));
    },
    startHosted(): void {
      for (const record of Object.values(readExtensionState(paths))) {
        if (record.state !== 'enabled' || record.removedLocallyAt !== undefined) continue;
        if (!InstalledHandler.exists(context, record)) continue;
        try {
          new InstalledHandler(context, record).startHosted(record.name, record.sequence);
        } catch (error) {
          log(`hosted process of ${record.name} not started: ${(error as Error).message}`);
        }
      }
    },
    stopHosted(): Promise<void> {
      return hosted.stopAll();
    },
    cpuLimit(): CpuLimitReport {
      return limiter.report();
    },
  };
}
