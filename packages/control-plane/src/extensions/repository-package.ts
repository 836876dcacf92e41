// A package in the repository: its identity taken from the request path (checked with the rules
// every extension name follows), its row key, and the metadata the API answers with.
import { parseExtensionName, TetherError, type ExtensionName } from '@tether/protocol';
import {
  PACKAGE_VERSION_PATTERN,
  type PackageIdentity,
  type PackageMetadata,
} from '@tether/protocol/extension-package';
import { ArmError } from '../api/arm-error.js';
import type { ExtensionPackagesTable } from '../store/schema.js';

export type { PackageMetadata };

/** Every column but `content`, which lists and metadata never need to read. */
export const METADATA_COLUMNS = [
  'publisher',
  'type',
  'version',
  'sha256',
  'size',
  'signature',
  'published_at',
  'published_by',
] as const satisfies readonly (keyof ExtensionPackagesTable)[];

export type MetadataRow = Pick<ExtensionPackagesTable, (typeof METADATA_COLUMNS)[number]>;

export function renderPackage(row: MetadataRow): PackageMetadata {
  return {
    publisher: row.publisher,
    type: row.type,
    version: row.version,
    sha256: row.sha256,
    size: Number(row.size),
    signature: row.signature,
    publishedAt: row.published_at,
    publishedBy: row.published_by,
  };
}

/** The row key: names and versions match case-insensitively, so one spelling per package. */
export function packageId(identity: PackageIdentity): string {
  return `${identity.publisher}/${identity.type}/${identity.version}`.toLowerCase();
}

/** Publisher and type as in `Publisher/Type`; anything else is InvalidResourceName. */
export function checkExtensionName(publisher: string, type: string): ExtensionName {
  try {
    return parseExtensionName(`${publisher}/${type}`);
  } catch (error) {
    if (!(error instanceof TetherError)) throw error;
    throw new ArmError('InvalidResourceName', error.message, { target: 'publisher/type' });
  }
}

export function checkVersion(version: string): string {
  if (!PACKAGE_VERSION_PATTERN.test(version)) {
    throw new ArmError(
      'InvalidResourceName',
      `The package version '${version.slice(0, 40)}' is not valid: use 2 to 4 dotted numbers, such as 1.0 or 2.1.0.`,
      { target: 'version' },
    );
  }
  return version;
}
