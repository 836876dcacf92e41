// The single source of truth for every `azcmagent config` property: its default, how it is
// typed, parsed, stored and shown, and whether monitor mode takes it over. Defaults live only here.
import {
  ALLOW_NONE,
  extensionNamesEqual,
  formatExtensionName,
  isAllowNone,
  isTetherError,
  parseExtensionName,
  type ExtensionName,
} from '@tether/protocol';
import { AgentError } from '../errors.js';
import type { LocalConfig, PropertyName } from './local-config.js';
import {
  parseBoolean,
  parseChoice,
  parseIntegerInRange,
  parsePort,
  parseProxyUrl,
} from './value-parsers.js';

export const CONFIG_MODES = ['full', 'monitor'] as const;

/**
 * `default` and `direct` both connect straight to the control plane (the real agent writes
 * `direct` when leaving its Arc gateway); Tether has no gateway, so `gateway` is refused.
 */
export const CONNECTION_TYPES = ['default', 'direct'] as const;

/** Service names the real agent accepts for proxy.bypass (ArcData since agent 1.36). */
export const PROXY_BYPASS_SERVICES = ['AAD', 'ARM', 'AMA', 'Arc', 'ArcData'] as const;

interface PropertyBase {
  readonly name: PropertyName;
  /** Short type label for `config info`. */
  readonly type: string;
  readonly description: string;
  readonly accepted: string;
  /** Monitor mode decides this property; it cannot be changed until the agent is in full mode. */
  readonly modeGoverned: boolean;
}

export interface ScalarProperty<V> extends PropertyBase {
  readonly kind: 'scalar';
  readonly defaultValue: V;
  readonly jsonType: 'boolean' | 'number' | 'string';
  parse(text: string): V;
  format(value: V): string;
}

export interface ListProperty<I> extends PropertyBase {
  readonly kind: 'list';
  readonly defaultValue: readonly I[];
  readonly itemJsonType: 'number' | 'string';
  parseItem(text: string): I;
  sameItem(a: I, b: I): boolean;
  formatItem(item: I): string;
  toJsonItem(item: I): number | string;
  /** Rules about the list as a whole, checked after every change. */
  checkList(items: readonly I[]): void;
}

export type PropertyDefinition<V> = [V] extends [readonly (infer I)[]]
  ? ListProperty<I>
  : ScalarProperty<V>;

export type PropertyTable = { readonly [K in PropertyName]: PropertyDefinition<LocalConfig[K]> };

const boolean = (
  name: PropertyName,
  defaultValue: boolean,
  description: string,
  modeGoverned = false,
): ScalarProperty<boolean> => ({
  kind: 'scalar',
  name,
  type: 'boolean',
  jsonType: 'boolean',
  defaultValue,
  description,
  accepted: 'true, false',
  modeGoverned,
  parse: (text) => parseBoolean(name, text),
  format: String,
});

const cpuLimit = (name: PropertyName, service: string): ScalarProperty<number> => ({
  kind: 'scalar',
  name,
  type: 'integer',
  jsonType: 'number',
  defaultValue: 5,
  description: `Highest share of one CPU, in percent, the ${service} may use.`,
  accepted: 'whole numbers from 1 to 100',
  modeGoverned: false,
  parse: (text) => parseIntegerInRange(name, text, 1, 100, 'a percentage'),
  format: String,
});

const extensionList = (
  name: 'extensions.allowlist' | 'extensions.blocklist',
  description: string,
  checkList: (items: readonly ExtensionName[]) => void,
): ListProperty<ExtensionName> => ({
  kind: 'list',
  name,
  type: 'list of Publisher/Type',
  itemJsonType: 'string',
  defaultValue: [],
  description,
  accepted:
    'comma-separated Publisher/Type entries (letters, digits, ".", "-", "_"; no wildcards), matched case-insensitively and exactly',
  modeGoverned: true,
  parseItem: (text) => {
    try {
      return parseExtensionName(text);
    } catch (error) {
      if (!isTetherError(error)) throw error;
      throw new AgentError('ERR_INVALID_EXTENSION_NAME', `${name}: ${error.message}`, {
        target: name,
        cause: error,
      });
    }
  },
  sameItem: extensionNamesEqual,
  formatItem: formatExtensionName,
  toJsonItem: formatExtensionName,
  checkList,
});

export const PROPERTY_TABLE: PropertyTable = {
  'incomingconnections.enabled': boolean(
    'incomingconnections.enabled',
    true,
    'Whether the agent accepts incoming connections (for example SSH or Windows Admin Center through the control plane). Monitor mode turns them off.',
    true,
  ),
  'incomingconnections.ports': {
    kind: 'list',
    name: 'incomingconnections.ports',
    type: 'list of ports',
    itemJsonType: 'number',
    defaultValue: [],
    description:
      'Local ports the agent may forward incoming connections to. Empty means no port is open to them.',
    accepted: 'comma-separated whole numbers from 1 to 65535',
    modeGoverned: true,
    parseItem: (text) => parsePort('incomingconnections.ports', text),
    sameItem: (a, b) => a === b,
    formatItem: String,
    toJsonItem: (port) => port,
    checkList: () => undefined,
  },
  'connection.type': {
    kind: 'scalar',
    name: 'connection.type',
    type: 'string',
    jsonType: 'string',
    defaultValue: 'default',
    description:
      'How the agent reaches the control plane: directly (default, or its synonym direct). Tether has no Arc gateway, so gateway is not accepted.',
    accepted: CONNECTION_TYPES.join(', '),
    modeGoverned: false,
    parse: (text) => {
      if (text.trim().toLowerCase() === 'gateway') {
        throw new AgentError(
          'ERR_INVALID_VALUE',
          'Invalid value "gateway" for connection.type: Tether has no Arc gateway; use default or direct.',
          { target: 'connection.type' },
        );
      }
      return parseChoice('connection.type', text, CONNECTION_TYPES);
    },
    format: String,
  },
  'proxy.url': {
    kind: 'scalar',
    name: 'proxy.url',
    type: 'URL',
    jsonType: 'string',
    defaultValue: '',
    description:
      'HTTP proxy the agent uses for outbound traffic, for example http://proxy.example.com:8080 (an HTTP CONNECT tunnel; TLS to the control plane is verified inside it). Read at every connection, so a change needs no restart. Clear it to connect without a proxy.',
    accepted: 'an http:// or https:// URL with host and optional port, without credentials',
    modeGoverned: false,
    parse: (text) => parseProxyUrl('proxy.url', text),
    format: String,
  },
  'proxy.bypass': {
    kind: 'list',
    name: 'proxy.bypass',
    type: 'list of service names',
    itemJsonType: 'string',
    defaultValue: [],
    description:
      "Services whose traffic skips the proxy and goes straight to the control plane: AAD (identity: tokens), ARM (resource manager: connect and disconnect), Arc (heartbeats, extensions and guest configuration). AMA (Azure Monitor agent) and ArcData (SQL Server extension) are accepted for those extensions and change none of the agent's own connections.",
    accepted: `comma-separated, from ${PROXY_BYPASS_SERVICES.join(', ')} (any case)`,
    modeGoverned: false,
    parseItem: (text) => parseChoice('proxy.bypass', text, PROXY_BYPASS_SERVICES),
    sameItem: (a, b) => a === b,
    formatItem: String,
    toJsonItem: String,
    checkList: () => undefined,
  },
  'extensions.allowlist': extensionList(
    'extensions.allowlist',
    'Extensions that may be installed, updated or upgraded; when set, every other extension is refused. The special value Allow/None keeps the extension manager running but allows no installs. Removal is always allowed.',
    (items) => {
      if (items.length > 1 && items.some(isAllowNone)) {
        throw new AgentError(
          'ERR_INVALID_VALUE',
          `Invalid value for extensions.allowlist: ${formatExtensionName(ALLOW_NONE)} allows no extensions, so it must be the only entry; set it alone or remove it first.`,
          { target: 'extensions.allowlist' },
        );
      }
    },
  ),
  'extensions.blocklist': extensionList(
    'extensions.blocklist',
    'Extensions that may never be installed, updated or upgraded, even when also in the allowlist. Removal is always allowed.',
    (items) => {
      if (items.some(isAllowNone)) {
        throw new AgentError(
          'ERR_INVALID_VALUE',
          `Invalid value for extensions.blocklist: ${formatExtensionName(ALLOW_NONE)} is only meaningful in extensions.allowlist.`,
          { target: 'extensions.blocklist' },
        );
      }
    },
  ),
  'guestconfiguration.enabled': boolean(
    'guestconfiguration.enabled',
    true,
    'Whether guest configuration evaluates policies on this server. When false, every guest-configuration assignment for the machine reports non-compliant. Monitor mode turns it off.',
    true,
  ),
  'extensions.enabled': boolean(
    'extensions.enabled',
    true,
    'Whether the extension manager runs. When false no extension operation runs (installed extensions are not removed).',
  ),
  'config.mode': {
    kind: 'scalar',
    name: 'config.mode',
    type: 'string',
    jsonType: 'string',
    defaultValue: 'full',
    description:
      'full allows every agent feature, subject to your own allowlist and blocklist. monitor allows only the vendor-managed monitoring and security extensions and turns guest configuration and incoming connections off; your own lists are kept and return in full mode.',
    accepted: CONFIG_MODES.join(', '),
    modeGoverned: false,
    parse: (text) => parseChoice('config.mode', text, CONFIG_MODES),
    format: String,
  },
  'guestconfiguration.agent.cpulimit': cpuLimit(
    'guestconfiguration.agent.cpulimit',
    'guest configuration service',
  ),
  'extensions.agent.cpulimit': cpuLimit('extensions.agent.cpulimit', 'extension service'),
  'agentupgrade.enabled': boolean(
    'agentupgrade.enabled',
    true,
    'Whether the control plane may upgrade this agent to a package it publishes. When false every upgrade it asks for is refused here and shows as failed, naming this setting; upgrading by hand (dpkg -i) still works.',
  ),
};

/** Every property, in the order `config list` shows them (SPEC §4). */
export const PROPERTY_NAMES = Object.freeze(Object.keys(PROPERTY_TABLE) as PropertyName[]);

/** Accepts any case, since shells and habits differ; unknown names list the real ones. */
export function resolvePropertyName(text: string): PropertyName {
  const lower = text.trim().toLowerCase();
  const match = PROPERTY_NAMES.find((name) => name === lower);
  if (match === undefined) {
    throw new AgentError(
      'ERR_UNKNOWN_PROPERTY',
      `Unknown configuration property "${text}". Known properties: ${PROPERTY_NAMES.join(', ')}. Run 'azcmagent config info' to see what each accepts.`,
      { target: text },
    );
  }
  return match;
}

export function defaultConfig(): LocalConfig {
  const entries = Object.values(PROPERTY_TABLE).map((p) => [p.name, p.defaultValue] as const);
  return Object.freeze(Object.fromEntries(entries)) as unknown as LocalConfig;
}
