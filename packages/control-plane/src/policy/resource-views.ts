// The resource views policy evaluates for Tether's resources: a machine and a machine's
// extension, with the provider aliases each exposes.
import { ALIASES, type PolicyResourceView } from './policy-aliases.js';

export const MACHINE_TYPE = 'Microsoft.HybridCompute/machines';
export const EXTENSION_TYPE = 'Microsoft.HybridCompute/machines/extensions';

export interface MachineFacts {
  id: string;
  name: string;
  location: string;
  tags: Readonly<Record<string, string>>;
  /** The machine's properties as stored: `osName`, `osType`, `osSku` are read when present. */
  properties: Readonly<Record<string, unknown>>;
}

/**
 * `Microsoft.HybridCompute/imageOffer` is the OS family, lower-cased (`linux`, `windows`),
 * followed by `-` and the first other word of the OS name when it has one (`linux-ubuntu`,
 * `linux-debian`, `windows-server`), so that `like "linux*"` matches every Linux machine.
 * The family is `osType`, or, when the agent did not report one, `windows` for an OS name
 * starting with "Windows" and `linux` for any other OS name.
 */
export function imageOfferOf(properties: Readonly<Record<string, unknown>>): string | undefined {
  const osName = stringOf(properties['osName']);
  const osType = stringOf(properties['osType'])?.toLowerCase();
  const family =
    osType ?? (osName === undefined ? undefined : /^windows/i.test(osName) ? 'windows' : 'linux');
  if (family === undefined) return undefined;
  const distribution = (osName ?? stringOf(properties['osSku']) ?? '')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .find((word) => word.length > 0 && word !== family);
  return distribution === undefined ? family : `${family}-${distribution}`;
}

export function machineView(machine: MachineFacts): PolicyResourceView {
  const p = machine.properties;
  const aliases: Record<string, unknown> = {};
  const put = (alias: string, value: unknown): void => {
    if (value !== undefined) aliases[alias.toLowerCase()] = value;
  };
  put(ALIASES.imageOffer, imageOfferOf(p));
  put(ALIASES.osName, stringOf(p['osName']));
  put(ALIASES.osType, stringOf(p['osType']));
  put(ALIASES.osSku, stringOf(p['osSku']));
  return {
    id: machine.id,
    type: MACHINE_TYPE,
    name: machine.name,
    location: machine.location,
    tags: machine.tags,
    aliases,
  };
}

export interface ExtensionFacts {
  id: string;
  name: string;
  location: string;
  tags: Readonly<Record<string, string>>;
  publisher: string;
  type: string;
  typeHandlerVersion?: string;
}

export function extensionView(extension: ExtensionFacts): PolicyResourceView {
  const aliases: Record<string, unknown> = {
    [ALIASES.extensionPublisher.toLowerCase()]: extension.publisher,
    [ALIASES.extensionType.toLowerCase()]: extension.type,
  };
  if (extension.typeHandlerVersion !== undefined) {
    aliases[ALIASES.extensionTypeHandlerVersion.toLowerCase()] = extension.typeHandlerVersion;
  }
  return {
    id: extension.id,
    type: EXTENSION_TYPE,
    name: extension.name,
    location: extension.location,
    tags: extension.tags,
    aliases,
  };
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
