// The shape of an `azcmagent check` check. Checks are grouped; later groups (connectivity,
// key file, disk encryption) plug in beside the local security controls.
import type { LoadedConfig } from '../config/local-config-file.js';
import type { AgentPaths } from '../paths.js';

export type CheckStatus = 'pass' | 'warn' | 'fail';

export interface CheckResult {
  readonly id: string;
  readonly title: string;
  readonly status: CheckStatus;
  /** What was found and, unless passing, what to do about it. */
  readonly detail: string;
}

export interface CheckContext {
  readonly paths: AgentPaths;
  readonly loaded: LoadedConfig;
}

export interface CheckGroup {
  readonly title: string;
  run(context: CheckContext): Promise<readonly CheckResult[]> | readonly CheckResult[];
}
