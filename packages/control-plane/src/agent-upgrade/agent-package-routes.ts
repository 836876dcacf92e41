// The agent package repository (docs/agent-upgrade.md): administrators publish azcmagent .debs
// with their publisher's signature, checked with dpkg-deb and against the signed statement (not
// who signed: machines judge that with the keys they trust), and immutable once there; any signed-in caller (agents included) lists
// them and downloads one. Publishing a newer version moves machines that upgrade automatically.
import type { FastifyRequest } from 'fastify';
import { isDebianVersion } from '@tether/protocol/agent-upgrade';
import {
  AGENT_PACKAGE_SIGNATURE_TYPE,
  agentPackageStatement,
  readUnverifiedAgentPackageStatement,
} from '@tether/protocol/extension-package';
import { ArmError } from '../api/arm-error.js';
import type { RouteSpec } from '../api/route-spec.js';
import { bodyObject, param, rejectUnknownFields } from '../resources/arm-request.js';
import type { ArmServices } from '../resources/arm-routes.js';
import {
  checkSignedStatement,
  readPackageField,
  readSignatureField,
} from '../extensions/repository-upload.js';
import {
  AGENT_PACKAGE_API_VERSIONS,
  AGENT_PACKAGES_PATH,
  agentPackageContent,
  findAgentPackage,
  listAgentPackages,
  renderAgentPackage,
} from './agent-package-store.js';
import { followNewestPackage } from './agent-upgrade-request.js';
import { inspectAgentDeb } from './deb-inspection.js';

export const AGENT_PACKAGE_PUBLISH_ACTION = 'Tether.Agent/packages/write';

/** The largest agent package taken: today's is about 40 MB, its own Node.js runtime included. */
export const MAX_AGENT_PACKAGE_BYTES = 160 * 1024 * 1024;
const BODY_LIMIT = Math.ceil(MAX_AGENT_PACKAGE_BYTES / 3) * 4 + 64 * 1024;
const MAX_SIGNATURE_LENGTH = 4096;

function versionOf(request: FastifyRequest): string {
  const version = param(request, 'version');
  if (!isDebianVersion(version)) {
    throw new ArmError(
      'InvalidResourceName',
      `'${version.slice(0, 80)}' is not a Debian version (digits first, then letters, digits, '.', '+', '~', '-').`,
      { target: 'version' },
    );
  }
  return version;
}

function notFound(version: string): ArmError {
  return new ArmError(
    'ResourceNotFound',
    `No agent package of version ${version} is published; list them with 'tether agent-package list'.`,
  );
}

function readSignature(request: FastifyRequest): string {
  return readSignatureField(
    bodyObject(request),
    "the publisher's signature of the package ('tether agent-package publish FILE --key publisher.key' makes it)",
    MAX_SIGNATURE_LENGTH,
  );
}

function readDeb(request: FastifyRequest): Buffer {
  const body = bodyObject(request);
  rejectUnknownFields(body, ['package', 'signature'], '');
  return readPackageField(body, 'the azcmagent .deb', MAX_AGENT_PACKAGE_BYTES).bytes;
}

export function agentPackageRoutes(services: ArmServices): RouteSpec[] {
  const { db, clock } = services;
  const common = { apiVersions: AGENT_PACKAGE_API_VERSIONS };
  const read = { kind: 'authenticated' } as const;
  return [
    {
      ...common,
      method: 'POST',
      url: AGENT_PACKAGES_PATH,
      access: { kind: 'action', action: AGENT_PACKAGE_PUBLISH_ACTION, scope: () => '/' },
      bodyLimit: BODY_LIMIT,
      async handler({ request, reply, caller }) {
        const deb = readDeb(request);
        const signature = readSignature(request);
        const control = await inspectAgentDeb(deb);
        const { sha256 } = agentPackageStatement(control.version, deb);
        checkSignedStatement(signature, {
          kind: 'an agent package signature',
          types: [AGENT_PACKAGE_SIGNATURE_TYPE],
          read: readUnverifiedAgentPackageStatement,
          actual: agentPackageStatement(control.version, deb),
          names: ['package', 'version'],
        });
        const same = await findAgentPackage(db, control.version);
        if (same !== undefined) {
          if (same.sha256 === sha256) return same;
          throw new ArmError(
            'Conflict',
            `Agent package version ${same.version} is already published with other contents (SHA-256 ${same.sha256}); versions are immutable, so build the change as a new version.`,
            { target: 'package' },
          );
        }
        const row = {
          version: control.version,
          sha256,
          size: deb.byteLength,
          content: deb.toString('base64'),
          signature,
          published_at: new Date(clock.now()).toISOString(),
          published_by: caller?.name ?? '',
        };
        const result = await db
          .insertInto('agent_packages')
          .values(row)
          .onConflict((oc) => oc.column('version').doNothing())
          .executeTakeFirstOrThrow();
        if (result.numInsertedOrUpdatedRows === 0n) {
          throw new ArmError(
            'Conflict',
            `Agent package version ${control.version} was published by another request at the same time.`,
          );
        }
        await followNewestPackage(db, clock);
        void reply.code(201);
        return renderAgentPackage(row);
      },
    },
    {
      ...common,
      method: 'GET',
      url: AGENT_PACKAGES_PATH,
      access: read,
      async handler() {
        return { value: await listAgentPackages(db) };
      },
    },
    {
      ...common,
      method: 'GET',
      url: `${AGENT_PACKAGES_PATH}/:version`,
      access: read,
      async handler({ request }) {
        const version = versionOf(request);
        const found = await findAgentPackage(db, version);
        if (found === undefined) throw notFound(version);
        return found;
      },
    },
    {
      ...common,
      method: 'GET',
      url: `${AGENT_PACKAGES_PATH}/:version/content`,
      access: read,
      async handler({ request, reply }) {
        const version = versionOf(request);
        const found = await findAgentPackage(db, version);
        const content =
          found === undefined ? undefined : await agentPackageContent(db, found.version);
        if (content === undefined) throw notFound(version);
        void reply.header('content-type', 'application/vnd.debian.binary-package');
        return content;
      },
    },
  ];
}
