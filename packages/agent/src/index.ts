// Public surface of the agent package for the agent's own services and cross-process tests.
export { agentConfigurationReport } from './agent-configuration-report.js';
export { loadLocalConfig, type LoadedConfig } from './config/local-config-file.js';
export type { LocalConfig } from './config/local-config.js';
export { effectiveSettings, type EffectiveSettings } from './effective-settings.js';
export { AgentError, EXIT_CODES, type AgentErrorCode } from './errors.js';
export {
  decideExtensionOperation,
  type ExtensionOperation,
  type PolicyDecision,
} from './extension-policy.js';
export { MONITOR_MODE_ALLOWLIST } from './monitor-mode-allowlist.js';
export { agentPaths, resolveAgentPaths, type AgentPaths } from './paths.js';
