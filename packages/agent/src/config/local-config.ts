// The shape of the agent's local configuration (`azcmagent config`): property names in the
// order `config list` shows them, and the typed value of each.
import type { ExtensionName } from '@tether/protocol';

export const PROPERTY_NAMES = [
  'incomingconnections.enabled',
  'incomingconnections.ports',
  'connection.type',
  'proxy.url',
  'proxy.bypass',
  'extensions.allowlist',
  'extensions.blocklist',
  'guestconfiguration.enabled',
  'extensions.enabled',
  'config.mode',
  'guestconfiguration.agent.cpulimit',
  'extensions.agent.cpulimit',
] as const;

export type PropertyName = (typeof PROPERTY_NAMES)[number];

export const CONFIG_MODES = ['full', 'monitor'] as const;
export type ConfigMode = (typeof CONFIG_MODES)[number];

/**
 * `default` and `direct` both connect straight to the control plane (the real agent writes
 * `direct` when leaving its Arc gateway); Tether has no gateway, so `gateway` is refused.
 */
export const CONNECTION_TYPES = ['default', 'direct'] as const;
export type ConnectionType = (typeof CONNECTION_TYPES)[number];

/** Service names the real agent accepts for proxy.bypass (ArcData since agent 1.36). */
export const PROXY_BYPASS_SERVICES = ['AAD', 'ARM', 'AMA', 'Arc', 'ArcData'] as const;
export type ProxyBypassService = (typeof PROXY_BYPASS_SERVICES)[number];

export interface LocalConfig {
  readonly 'incomingconnections.enabled': boolean;
  readonly 'incomingconnections.ports': readonly number[];
  readonly 'connection.type': ConnectionType;
  readonly 'proxy.url': string;
  readonly 'proxy.bypass': readonly ProxyBypassService[];
  readonly 'extensions.allowlist': readonly ExtensionName[];
  readonly 'extensions.blocklist': readonly ExtensionName[];
  readonly 'guestconfiguration.enabled': boolean;
  readonly 'extensions.enabled': boolean;
  readonly 'config.mode': ConfigMode;
  readonly 'guestconfiguration.agent.cpulimit': number;
  readonly 'extensions.agent.cpulimit': number;
}

/** What localconfig.json holds: only the properties an administrator has set. */
export type StoredConfig = Partial<LocalConfig>;
