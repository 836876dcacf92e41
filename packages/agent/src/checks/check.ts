// The shape of an `azcmagent check` check. Checks are grouped: the local security controls,
// the connection to the control plane, and how the machine key is protected.
import type { Clock } from '../clock.js';
import type { LoadedConfig } from '../config/local-config-file.js';
import type { AgentPaths } from '../paths.js';

/** `unknown`: the check could not tell; `skip`: nothing to check (e.g. not connected). */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'unknown' | 'skip';

export interface CheckResult {
  readonly id: string;
  readonly title: string;
  readonly status: CheckStatus;
  /** What was found and, unless passing, what to do about it. */
  readonly detail: string;
}

export interface CheckContext {
  readonly paths: AgentPaths;
  /**
   * Where /proc and /sys are read: `/` on every real run, AZCMAGENT_ROOT included, since they
   * belong to the system rather than to the agent's layout; a fixture folder in tests.
   */
  readonly systemRoot: string;
  readonly loaded: LoadedConfig;
  readonly clock: Clock;
}

export interface CheckGroup {
  readonly title: string;
  run(context: CheckContext): Promise<readonly CheckResult[]> | readonly CheckResult[];
}
