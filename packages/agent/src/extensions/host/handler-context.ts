// What every lifecycle step needs: where things are, how to run commands, how to log.
import type { Clock } from '../../clock.js';
import type { AgentPaths } from '../../paths.js';
import type { CpuLimiter } from './cgroup.js';
import type { HandlerEnvOptions } from './handler-process-env.js';
import type { HostedProcesses } from './hosted-processes.js';
import type { ExtractLimits } from './zip-extract.js';

export interface HandlerContext {
  readonly paths: AgentPaths;
  readonly clock: Clock;
  readonly log: (line: string) => void;
  readonly env: HandlerEnvOptions;
  readonly baseEnv: NodeJS.ProcessEnv;
  readonly limiter: CpuLimiter;
  readonly hosted: HostedProcesses;
  readonly commandTimeoutMs: number;
  /** How long an operation waits for `azcmagent config set|clear` to finish. */
  readonly configLockTimeoutMs?: number;
  /** Who may own trusted publisher keys. */
  readonly ownerUid: number;
  readonly extractLimits: ExtractLimits | undefined;
}
