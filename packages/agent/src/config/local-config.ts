// The shape of the agent's local configuration (`azcmagent config`): every property and the
// type of its value. Types only; the values and their rules live in the property table.
import type { ExtensionName } from '@tether/protocol';
import type { CONFIG_MODES, CONNECTION_TYPES, PROXY_BYPASS_SERVICES } from './property-table.js';

export type ConfigMode = (typeof CONFIG_MODES)[number];
export type ConnectionType = (typeof CONNECTION_TYPES)[number];
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
  readonly 'agentupgrade.enabled': boolean;
}

export type PropertyName = keyof LocalConfig;

/** What localconfig.json holds: only the properties an administrator has set. */
export type StoredConfig = Partial<LocalConfig>;
