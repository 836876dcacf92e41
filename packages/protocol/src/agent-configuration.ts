// The read-only local security settings an agent reports to the control plane (ARM
// `properties.agentConfiguration`), and the validator the control plane applies on arrival.
import { parseExtensionName } from './extension-name.js';
import { TetherError } from './tether-error.js';

/** `{publisher, type}` as ARM shows extension list entries. */
export interface ConfigurationExtension {
  readonly publisher: string;
  readonly type: string;
}

export type BooleanString = 'true' | 'false';
export type AgentConfigMode = 'full' | 'monitor';

/** What is in force on the machine; booleans are strings as in the ARM shape. */
export interface AgentConfiguration {
  readonly extensionsAllowList: readonly ConfigurationExtension[];
  readonly extensionsBlockList: readonly ConfigurationExtension[];
  readonly extensionsEnabled: BooleanString;
  readonly guestConfigurationEnabled: BooleanString;
  readonly configMode: AgentConfigMode;
  /** Empty when no proxy is configured. */
  readonly proxyUrl: string;
  readonly proxyBypass: readonly string[];
  readonly incomingConnectionsPorts: readonly string[];
  readonly incomingConnectionsEnabled: BooleanString;
}

/** What an agent reports before anything is set on the machine: every door open, no proxy. */
export const DEFAULT_AGENT_CONFIGURATION: AgentConfiguration = Object.freeze({
  extensionsAllowList: [],
  extensionsBlockList: [],
  extensionsEnabled: 'true',
  guestConfigurationEnabled: 'true',
  configMode: 'full',
  proxyUrl: '',
  proxyBypass: [],
  incomingConnectionsPorts: [],
  incomingConnectionsEnabled: 'true',
});

export type AgentConfigurationErrorCode = 'ERR_INVALID_AGENT_CONFIGURATION';

const KEYS = [
  'extensionsAllowList',
  'extensionsBlockList',
  'extensionsEnabled',
  'guestConfigurationEnabled',
  'configMode',
  'proxyUrl',
  'proxyBypass',
  'incomingConnectionsPorts',
  'incomingConnectionsEnabled',
] as const satisfies readonly (keyof AgentConfiguration)[];

/** Validates a reported configuration; unknown or missing fields are errors, never ignored. */
export function parseAgentConfiguration(value: unknown): AgentConfiguration {
  const record = asRecord(value, 'agentConfiguration');
  const unknown = Object.keys(record).filter((k) => !(KEYS as readonly string[]).includes(k));
  if (unknown.length > 0) fail(unknown[0] ?? '', 'is not a known agentConfiguration field');
  return Object.freeze({
    extensionsAllowList: extensionList(record, 'extensionsAllowList'),
    extensionsBlockList: extensionList(record, 'extensionsBlockList'),
    extensionsEnabled: booleanString(record, 'extensionsEnabled'),
    guestConfigurationEnabled: booleanString(record, 'guestConfigurationEnabled'),
    configMode: oneOf(record, 'configMode', ['full', 'monitor'] as const),
    proxyUrl: stringField(record, 'proxyUrl'),
    proxyBypass: stringList(record, 'proxyBypass'),
    incomingConnectionsPorts: stringList(record, 'incomingConnectionsPorts').map((port) => {
      if (!/^[1-9][0-9]{0,4}$/.test(port) || Number(port) > 65535) {
        fail('incomingConnectionsPorts', `contains "${port}", which is not a port 1-65535`);
      }
      return port;
    }),
    incomingConnectionsEnabled: booleanString(record, 'incomingConnectionsEnabled'),
  });
}

function fail(target: string, why: string): never {
  throw new TetherError<AgentConfigurationErrorCode>(
    'ERR_INVALID_AGENT_CONFIGURATION',
    `Invalid agentConfiguration: ${target} ${why}.`,
    { target },
  );
}

function asRecord(value: unknown, target: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(target, 'must be a JSON object');
  }
  return value as Record<string, unknown>;
}

function field(record: Record<string, unknown>, key: string): unknown {
  if (!(key in record)) fail(key, 'is missing');
  return record[key];
}

function stringField(record: Record<string, unknown>, key: string): string {
  const value = field(record, key);
  if (typeof value !== 'string') fail(key, 'must be a string');
  return value;
}

function booleanString(record: Record<string, unknown>, key: string): BooleanString {
  return oneOf(record, key, ['true', 'false'] as const);
}

function oneOf<T extends string>(
  record: Record<string, unknown>,
  key: string,
  allowed: readonly T[],
): T {
  const value = stringField(record, key);
  if (!(allowed as readonly string[]).includes(value)) {
    fail(key, `must be one of ${allowed.map((a) => `"${a}"`).join(', ')}`);
  }
  return value as T;
}

function stringList(record: Record<string, unknown>, key: string): string[] {
  const value = field(record, key);
  if (!Array.isArray(value) || !value.every((v): v is string => typeof v === 'string')) {
    fail(key, 'must be an array of strings');
  }
  return [...value];
}

function extensionList(record: Record<string, unknown>, key: string): ConfigurationExtension[] {
  const value = field(record, key);
  if (!Array.isArray(value)) fail(key, 'must be an array of {publisher, type}');
  return value.map((entry: unknown, index) => {
    const item = asRecord(entry, `${key}[${index}]`);
    const publisher = item.publisher;
    const type = item.type;
    if (typeof publisher !== 'string' || typeof type !== 'string' || Object.keys(item).length > 2) {
      fail(`${key}[${index}]`, 'must be exactly {publisher, type} with string values');
    }
    try {
      parseExtensionName(`${publisher}/${type}`);
    } catch (error) {
      fail(`${key}[${index}]`, `is not a valid extension (${(error as Error).message})`);
    }
    return Object.freeze({ publisher, type });
  });
}
