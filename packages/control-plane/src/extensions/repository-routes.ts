// The signed extension package repository (docs/extensions.md, B1): publishers upload signed
// zips, which are immutable once there; any signed-in caller (agents included) lists, reads and
// downloads them.
import type { FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import { ArmError } from '../api/arm-error.js';
import type { Caller } from '../api/caller.js';
import type { RouteSpec } from '../api/route-spec.js';
import { callerDisplayNames } from '../directory/caller-display-names.js';
import { param } from '../resources/arm-request.js';
import type { ArmServices } from '../resources/arm-routes.js';
import { likeBelow } from '../resources/sql-like.js';
import { upgradeAutomatically } from './automatic-upgrade.js';
import { extensionServicesOf } from './extension-target.js';
import {
  checkExtensionName,
  checkVersion,
  METADATA_COLUMNS,
  packageId,
  renderPackage,
  type PackageMetadata,
} from './repository-package.js';
import { readUpload, UPLOAD_BODY_LIMIT } from './repository-upload.js';
import { byNewestVersion } from './repository-versions.js';

export const REPOSITORY_API_VERSIONS = ['2024-07-10'] as const;
export const PUBLISH_ACTION = 'Tether.Extensions/packages/write';

const ROOT = '/providers/Tether.Extensions';
const VERSIONS = `${ROOT}/publishers/:publisher/types/:type/versions`;
const ONE = `${VERSIONS}/:version`;

/** The package a request path names, checked; bad names are 400 before anything is read. */
function identityOf(request: FastifyRequest): { publisher: string; type: string; version: string } {
  const name = checkExtensionName(param(request, 'publisher'), param(request, 'type'));
  return { ...name, version: checkVersion(param(request, 'version')) };
}

function notFound(identity: { publisher: string; type: string; version: string }): ArmError {
  return new ArmError(
    'ResourceNotFound',
    `The repository has no package ${identity.publisher}/${identity.type} version ${identity.version}; list the published versions with 'tether extension list'.`,
  );
}

export function repositoryRoutes(services: ArmServices): RouteSpec[] {
  const { db, clock } = services;
  /**
   * The packages with their publishers' display names, as the portal shows them, for people and
   * applications; a machine identity reads packages too but is not shown the directory's names.
   */
  const named = async (
    packages: PackageMetadata[],
    caller: Caller | undefined,
  ): Promise<PackageMetadata[]> => {
    const principal =
      caller === undefined
        ? undefined
        : await db
            .selectFrom('principals')
            .select('machine_id')
            .where('id', '=', caller.principalId)
            .executeTakeFirst();
    const names =
      principal === undefined || principal.machine_id !== null
        ? new Map<string, string>()
        : await callerDisplayNames(
            db,
            packages.map((p) => p.publishedBy),
          );
    return packages.map((p) => ({
      ...p,
      publishedByDisplayName: names.get(p.publishedBy) ?? null,
    }));
  };
  const common = { apiVersions: REPOSITORY_API_VERSIONS };
  const read = { kind: 'authenticated' } as const;

  const findMetadata = (id: string) =>
    db
      .selectFrom('extension_packages')
      .select(METADATA_COLUMNS)
      .where('id', '=', id)
      .executeTakeFirst();

  return [
    {
      ...common,
      method: 'PUT',
      url: ONE,
      access: { kind: 'action', action: PUBLISH_ACTION, scope: () => '/' },
      bodyLimit: UPLOAD_BODY_LIMIT,
      async handler({ request, reply, caller }) {
        const identity = identityOf(request);
        const upload = readUpload(request, identity);
        const id = packageId(identity);
        const exists = (): ArmError =>
          new ArmError(
            'Conflict',
            `Package ${identity.publisher}/${identity.type} version ${identity.version} is already published; versions are immutable, so publish a new version.`,
            { target: 'version' },
          );
        if ((await findMetadata(id)) !== undefined) throw exists();
        const row = {
          id,
          ...identity,
          sha256: upload.statement.sha256,
          size: upload.bytes.byteLength,
          signature: upload.signature,
          content: upload.content,
          published_at: new Date(clock.now()).toISOString(),
          published_by: caller?.name ?? '',
        };
        const result = await db
          .insertInto('extension_packages')
          .values(row)
          .onConflict((oc) => oc.column('id').doNothing())
          .executeTakeFirstOrThrow();
        if (result.numInsertedOrUpdatedRows === 0n) throw exists();
        await upgradeAutomatically(extensionServicesOf(services), identity);
        void reply.code(201);
        const [published] = await named([renderPackage(row)], caller);
        return published;
      },
    },
    {
      ...common,
      method: 'GET',
      url: ONE,
      access: read,
      async handler({ request, caller }) {
        const identity = identityOf(request);
        const row = await findMetadata(packageId(identity));
        if (row === undefined) throw notFound(identity);
        const [found] = await named([renderPackage(row)], caller);
        return found;
      },
    },
    {
      ...common,
      method: 'GET',
      url: `${ONE}/package`,
      access: read,
      async handler({ request, reply }) {
        const identity = identityOf(request);
        const row = await db
          .selectFrom('extension_packages')
          .select('content')
          .where('id', '=', packageId(identity))
          .executeTakeFirst();
        if (row === undefined) throw notFound(identity);
        void reply.header('content-type', 'application/zip');
        return Buffer.from(row.content, 'base64');
      },
    },
    {
      ...common,
      method: 'GET',
      url: VERSIONS,
      access: read,
      async handler({ request, caller }) {
        const name = checkExtensionName(param(request, 'publisher'), param(request, 'type'));
        const below = likeBelow(`${name.publisher}/${name.type}`.toLowerCase());
        const rows = await db
          .selectFrom('extension_packages')
          .select(METADATA_COLUMNS)
          .where(sql<boolean>`id like ${below} escape '\\'`)
          .execute();
        return { value: await named(rows.map(renderPackage).sort(byNewestVersion), caller) };
      },
    },
    {
      ...common,
      method: 'GET',
      url: `${ROOT}/packages`,
      access: read,
      async handler({ caller }) {
        const rows = await db.selectFrom('extension_packages').select(METADATA_COLUMNS).execute();
        return {
          value: await named(rows.map(renderPackage).sort(byExtensionThenNewest), caller),
        };
      },
    },
  ];
}

function byExtensionThenNewest(a: PackageMetadata, b: PackageMetadata): number {
  const name = (p: PackageMetadata): string => `${p.publisher}/${p.type}`.toLowerCase();
  if (name(a) !== name(b)) return name(a) < name(b) ? -1 : 1;
  return byNewestVersion(a, b);
}
