// Derives the read-only agentConfiguration the agent reports to the control plane: what is in
// force on the server (after the mode), so the control plane shows the real lock-down posture.
import type { AgentConfiguration, BooleanString, ExtensionName } from '@tether/protocol';
import type { LocalConfig } from './config/local-config.js';
import { effectiveSettings } from './effective-settings.js';
import { maskProxyUrl } from './network/proxy-route.js';

export function agentConfigurationReport(config: LocalConfig): AgentConfiguration {
  const effective = effectiveSettings(config);
  return {
    extensionsAllowList: (effective.allowlist ?? []).map(toWire),
    extensionsBlockList: effective.blocklist.map(toWire),
    extensionsEnabled: bool(effective.extensionsEnabled),
    guestConfigurationEnabled: bool(effective.guestConfigurationEnabled),
    configMode: effective.mode,
    // config set refuses credentials; masked all the same, since this leaves the machine.
    proxyUrl: maskProxyUrl(config['proxy.url']),
    proxyBypass: [...config['proxy.bypass']],
    incomingConnectionsPorts: config['incomingconnections.ports'].map(String),
    incomingConnectionsEnabled: bool(effective.incomingConnectionsEnabled),
  };
}

function toWire(name: ExtensionName): { publisher: string; type: string } {
  return { publisher: name.publisher, type: name.type };
}

function bool(value: boolean): BooleanString {
  return value ? 'true' : 'false';
}
