// Where a configuration's package is: the extension repository entry of whoever published a
// package of that configuration name, at the exact version asked for or the newest matching one.
import { sql } from 'kysely';
import { ArmError } from '../api/arm-error.js';
import { compareVersions } from '../extensions/repository-versions.js';
import type { Db } from './gc-store.js';

export interface GcPackage {
  publisher: string;
  version: string;
  contentUri: string;
  contentHash: string;
}

/** `1.2`, `1.2.3`, or a wildcard tail `1.*` / `*`: the newest published version it allows. */
function versionMatches(pattern: string, version: string): boolean {
  if (!pattern.endsWith('*')) return compareVersions(pattern, version) === 0;
  const prefix = pattern.slice(0, -1);
  return prefix === '' || version.startsWith(prefix);
}

export async function resolveGcPackage(
  db: Db,
  publicUrl: string,
  configurationName: string,
  versionPattern: string,
): Promise<GcPackage> {
  const rows = await db
    .selectFrom('extension_packages')
    .select(['publisher', 'type', 'version', 'sha256'])
    .where(sql<string>`lower(type)`, '=', configurationName.toLowerCase())
    .execute();
  const candidates = rows
    .filter(
      (r) =>
        r.type.toLowerCase() === configurationName.toLowerCase() &&
        versionMatches(versionPattern, r.version),
    )
    .sort((a, b) => compareVersions(b.version, a.version));
  const newest = candidates[0];
  if (newest === undefined) {
    throw new ArmError(
      'InvalidRequestContent',
      `No package of the configuration '${configurationName}' with version '${versionPattern}' is published in the repository; publish it first, or name a published version.`,
      { target: 'properties.guestConfiguration.version' },
    );
  }
  const rivals = candidates.filter(
    (c) =>
      c.version === newest.version && c.publisher.toLowerCase() !== newest.publisher.toLowerCase(),
  );
  if (rivals.length > 0) {
    // Two publishers' packages under one name: refuse rather than pick whose code runs.
    throw new ArmError(
      'InvalidRequestContent',
      `The configuration '${configurationName}' version ${newest.version} is published by more than one publisher (${[newest, ...rivals].map((r) => r.publisher).join(', ')}); only one may publish a configuration name.`,
      { target: 'properties.guestConfiguration.name' },
    );
  }
  const path = `/providers/Tether.Extensions/publishers/${newest.publisher}/types/${newest.type}/versions/${newest.version}`;
  return {
    publisher: newest.publisher,
    version: newest.version,
    contentUri: `${publicUrl.replace(/\/+$/, '')}${path}`,
    contentHash: newest.sha256,
  };
}
