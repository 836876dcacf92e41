// Which published package an extension request means: versions are dotted numbers compared
// numerically, publisher and type case-insensitively, against the repository's table.
import levenshtein from 'fast-levenshtein';
import { sql, type Kysely } from 'kysely';
import { ArmError } from '../api/arm-error.js';
import { preparedQuery } from '../store/prepared-query.js';
import type { Database } from '../store/schema.js';

const VERSION = /^\d{1,9}(?:\.\d{1,9}){0,3}$/;

export function parseVersion(text: string): number[] | undefined {
  return VERSION.test(text) ? text.split('.').map(Number) : undefined;
}

/** Numeric order; missing parts count as 0, so 1.0 and 1.0.0 are the same version. */
export function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i += 1) {
    const difference = (a[i] ?? 0) - (b[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

export interface VersionRequest {
  publisher: string;
  type: string;
  /** Absent: the newest published version. */
  requested: string | undefined;
  /** With a requested version: the newest published one of the same major version, not older. */
  autoUpgradeMinorVersion: boolean;
}

const versionsOf = preparedQuery(2, (db: Kysely<Database>, publisher: string, type: string) =>
  db
    .selectFrom('extension_packages')
    .select('version')
    .where(sql<string>`lower(publisher)`, '=', publisher)
    .where(sql<string>`lower(type)`, '=', type),
);

/** The published version a request resolves to, or `400 ExtensionPackageNotFound`. */
export async function resolvePackageVersion(
  db: Kysely<Database>,
  request: VersionRequest,
): Promise<string> {
  const rows = await versionsOf.rows(
    db,
    request.publisher.toLowerCase(),
    request.type.toLowerCase(),
  );
  const published = rows
    .map((row) => ({ text: row.version, parts: parseVersion(row.version) }))
    .filter((v): v is { text: string; parts: number[] } => v.parts !== undefined)
    .sort((a, b) => compareVersions(b.parts, a.parts));
  const wanted = request.requested === undefined ? undefined : parseVersion(request.requested);
  const found =
    wanted === undefined
      ? published[0]
      : request.autoUpgradeMinorVersion
        ? published.find((v) => v.parts[0] === wanted[0] && compareVersions(v.parts, wanted) >= 0)
        : published.find((v) => compareVersions(v.parts, wanted) === 0);
  if (published.length === 0) throw await unknownExtension(db, request);
  if (found === undefined)
    throw packageNotFound(
      request,
      published.map((v) => v.text),
    );
  return found.text;
}

/** Names further than this many edits from every published one get no suggestion. */
const MAX_SUGGESTION_DISTANCE = 4;

/**
 * Nothing is published under the publisher and type asked for: says so, names the field that is
 * wrong (the type when the publisher is known) and suggests the closest published name.
 */
async function unknownExtension(db: Kysely<Database>, request: VersionRequest): Promise<ArmError> {
  const known = await db
    .selectFrom('extension_packages')
    .select(['publisher', 'type'])
    .distinct()
    .execute();
  const asked = `${request.publisher}/${request.type}`;
  const distance = (name: string): number =>
    levenshtein.get(name.toLowerCase(), asked.toLowerCase());
  const closest = known
    .map((row) => `${row.publisher}/${row.type}`)
    .filter((name) => distance(name) <= MAX_SUGGESTION_DISTANCE)
    .sort((a, b) => distance(a) - distance(b))[0];
  const publisherKnown = known.some(
    (row) => row.publisher.toLowerCase() === request.publisher.toLowerCase(),
  );
  const hint =
    closest === undefined
      ? "'tether extension list' shows what is published; publish one with 'tether extension publish'"
      : `did you mean ${closest}?`;
  return new ArmError(
    'ExtensionPackageNotFound',
    `The repository has no extension ${asked} (publisher '${request.publisher}', type '${request.type}'): ${hint}`,
    { target: publisherKnown ? 'properties.type' : 'properties.publisher' },
  );
}

function packageNotFound(request: VersionRequest, published: readonly string[]): ArmError {
  const name = `${request.publisher}.${request.type}`;
  const asked =
    request.requested === undefined
      ? 'any version'
      : request.autoUpgradeMinorVersion
        ? `version ${request.requested} or a newer minor version`
        : `version ${request.requested}`;
  return new ArmError(
    'ExtensionPackageNotFound',
    `The extension package ${name} ${asked} is not in the repository (published versions: ${published.slice(0, 10).join(', ')}).`,
    { target: 'properties.typeHandlerVersion' },
  );
}
