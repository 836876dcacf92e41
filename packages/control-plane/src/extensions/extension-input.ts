// What an operator may send for an extension (PUT, PATCH, upgradeExtensions), checked before
// anything is read or written: every refusal is a 400 naming the field, and nothing changes.
import { isTetherError, parseExtensionName, type ExtensionName } from '@tether/protocol';
import { ArmError } from '../api/arm-error.js';
import {
  asObject,
  checkEchoedNameAndType,
  field,
  invalidContent,
  optionalString,
  rejectUnknownFields,
  type JsonObject,
} from '../resources/arm-request.js';
import { parseLocation, parseTags, type Tags } from '../resources/arm-tags.js';
import { EXTENSION_RESOURCE_TYPE } from './extension-resource.js';
import { parseVersion } from './extension-versions.js';

/** 1–64 letters, digits, `-`, `_`, `.`; begins with a letter or digit, does not end in `.`. */
const EXTENSION_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,62}[A-Za-z0-9_-])?$/;
/** Settings are small JSON documents; this keeps a mistaken upload out of the database. */
const MAX_SETTINGS_BYTES = 256 * 1024;

export interface ExtensionFields {
  typeHandlerVersion?: string | undefined;
  autoUpgradeMinorVersion?: boolean | undefined;
  enableAutomaticUpgrade?: boolean | undefined;
  forceUpdateTag?: string | null | undefined;
  settings?: JsonObject | undefined;
  protectedSettings?: JsonObject | undefined;
}

export interface ExtensionPut extends ExtensionFields {
  location: string | undefined;
  tags: Tags;
  name: ExtensionName;
}

export interface ExtensionPatch extends ExtensionFields {
  tags: Tags | undefined;
}

const SETTABLE = [
  'typeHandlerVersion',
  'autoUpgradeMinorVersion',
  'enableAutomaticUpgrade',
  'forceUpdateTag',
  'settings',
  'protectedSettings',
] as const;
/** Kept by the control plane from the agent's reports; refused by name rather than ignored. */
const READ_ONLY = ['provisioningState', 'instanceView'] as const;

export function checkExtensionName(value: string): string {
  if (!EXTENSION_NAME.test(value)) {
    throw new ArmError(
      'InvalidResourceName',
      `The extension name '${value.slice(0, 100)}' is not valid: use 1-64 letters, digits, '-', '_' or '.', beginning with a letter or digit and not ending in '.'.`,
      { target: 'extensionName' },
    );
  }
  return value;
}

export function parseExtensionPut(body: JsonObject, name: string): ExtensionPut {
  rejectUnknownFields(
    body,
    ['location', 'tags', 'properties', 'id', 'name', 'type', 'systemData'],
    '',
  );
  checkEchoedNameAndType(body, name, 'extension', EXTENSION_RESOURCE_TYPE);
  const properties = asObject(field(body, 'properties') ?? null, 'properties');
  const publisher = optionalString(properties, 'publisher', 'properties.publisher', 256) ?? '';
  const type = optionalString(properties, 'type', 'properties.type', 256) ?? '';
  const location = field(body, 'location');
  return {
    location: location === undefined || location === null ? undefined : parseLocation(location),
    tags: parseTags(field(body, 'tags')) ?? {},
    name: extensionNameOf(publisher, type),
    ...parseFields(properties, ['publisher', 'type']),
  };
}

export function parseExtensionPatch(body: JsonObject): ExtensionPatch {
  rejectUnknownFields(body, ['tags', 'properties'], '');
  const raw = field(body, 'properties');
  const properties = raw === undefined || raw === null ? {} : asObject(raw, 'properties');
  for (const fixed of ['publisher', 'type']) {
    if (field(properties, fixed) !== undefined) {
      throw invalidContent(
        `properties.${fixed}`,
        'cannot be changed by PATCH; delete the extension and create it again',
      );
    }
  }
  return { tags: parseTags(field(body, 'tags')), ...parseFields(properties, []) };
}

/** `{extensionTargets:{"Publisher.Type":{targetVersion}}}` as a map from key to version. */
export function parseUpgradeTargets(body: JsonObject): Map<string, string> {
  rejectUnknownFields(body, ['extensionTargets'], '');
  const targets = asObject(field(body, 'extensionTargets') ?? null, 'extensionTargets');
  const entries = Object.entries(targets);
  if (entries.length === 0) throw invalidContent('extensionTargets', 'names no extension');
  const parsed = new Map<string, string>();
  for (const [key, value] of entries) {
    const target = asObject(value, `extensionTargets.${key}`);
    rejectUnknownFields(target, ['targetVersion'], `extensionTargets.${key}`);
    const version = optionalString(
      target,
      'targetVersion',
      `extensionTargets.${key}.targetVersion`,
    );
    if (version === undefined || parseVersion(version) === undefined) {
      throw invalidContent(
        `extensionTargets.${key}.targetVersion`,
        'is required: a version of dotted numbers such as 1.2.0',
      );
    }
    parsed.set(key.toLowerCase(), version);
  }
  return parsed;
}

function extensionNameOf(publisher: string, type: string): ExtensionName {
  try {
    return parseExtensionName(`${publisher}/${type}`);
  } catch (error) {
    if (!isTetherError(error)) throw error;
    const target = /the type/.test(error.message) ? 'type' : 'publisher';
    throw new ArmError(
      'InvalidRequestContent',
      `The request content is invalid: 'properties.${target}' is not valid: ${error.message}`,
      { target: `properties.${target}`, cause: error },
    );
  }
}

function parseFields(properties: JsonObject, alsoKnown: readonly string[]): ExtensionFields {
  for (const key of Object.keys(properties)) {
    const readOnly = READ_ONLY.find((k) => k.toLowerCase() === key.toLowerCase());
    if (readOnly !== undefined) {
      throw invalidContent(
        `properties.${readOnly}`,
        'is read-only: the control plane sets it from what the agent reports',
      );
    }
  }
  rejectUnknownFields(properties, [...alsoKnown, ...SETTABLE], 'properties');
  const version = optionalString(properties, 'typeHandlerVersion', 'properties.typeHandlerVersion');
  if (version !== undefined && parseVersion(version) === undefined) {
    throw invalidContent(
      'properties.typeHandlerVersion',
      'must be a version of dotted numbers such as 1.0 or 2.1.3',
    );
  }
  const tag = field(properties, 'forceUpdateTag');
  if (tag !== undefined && tag !== null && (typeof tag !== 'string' || tag.length > 256)) {
    throw invalidContent('properties.forceUpdateTag', 'must be a string of at most 256 characters');
  }
  return {
    typeHandlerVersion: version,
    autoUpgradeMinorVersion: optionalBoolean(properties, 'autoUpgradeMinorVersion'),
    enableAutomaticUpgrade: optionalBoolean(properties, 'enableAutomaticUpgrade'),
    forceUpdateTag: tag,
    settings: optionalSettings(properties, 'settings'),
    protectedSettings: optionalSettings(properties, 'protectedSettings'),
  };
}

function optionalBoolean(properties: JsonObject, name: string): boolean | undefined {
  const value = field(properties, name);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean')
    throw invalidContent(`properties.${name}`, 'must be true or false');
  return value;
}

function optionalSettings(properties: JsonObject, name: string): JsonObject | undefined {
  const value = field(properties, name);
  if (value === undefined || value === null) return undefined;
  // Never echo the value: protected settings are secrets.
  const settings = asObject(value, `properties.${name}`);
  if (Buffer.byteLength(JSON.stringify(settings)) > MAX_SETTINGS_BYTES) {
    throw invalidContent(`properties.${name}`, `is larger than ${MAX_SETTINGS_BYTES / 1024} KiB`);
  }
  return settings;
}
