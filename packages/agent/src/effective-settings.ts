// What is actually in force once the agent mode is applied to the stored settings. The policy
// decision, `config list`, `check` and the heartbeat report all read this one derivation.
import type { ExtensionName } from '@tether/protocol';
import type { ConfigMode, LocalConfig } from './config/local-config.js';
import { MONITOR_MODE_ALLOWLIST } from './monitor-mode-allowlist.js';

export interface EffectiveSettings {
  readonly mode: ConfigMode;
  readonly extensionsEnabled: boolean;
  readonly guestConfigurationEnabled: boolean;
  readonly incomingConnectionsEnabled: boolean;
  /** null when no allowlist is in force: every extension not blocked may be installed. */
  readonly allowlist: readonly ExtensionName[] | null;
  readonly blocklist: readonly ExtensionName[];
}

/**
 * Monitor mode replaces the administrator's allowlist with the vendor-managed one and turns
 * guest configuration and incoming connections off. The administrator's blocklist stays in
 * force: a mode may narrow what the server's own administrator allows, never widen past an
 * explicit block.
 */
export function effectiveSettings(config: LocalConfig): EffectiveSettings {
  const monitor = config['config.mode'] === 'monitor';
  const allowlist = config['extensions.allowlist'];
  return Object.freeze({
    mode: config['config.mode'],
    extensionsEnabled: config['extensions.enabled'],
    guestConfigurationEnabled: !monitor && config['guestconfiguration.enabled'],
    incomingConnectionsEnabled: !monitor && config['incomingconnections.enabled'],
    allowlist: monitor ? MONITOR_MODE_ALLOWLIST : allowlist.length > 0 ? allowlist : null,
    blocklist: config['extensions.blocklist'],
  });
}
