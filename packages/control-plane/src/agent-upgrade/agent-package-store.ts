// The agent packages a control plane keeps: metadata for lists and goal states, the bytes only
// for a download. Versions are found by Debian's order, so `1.01` and `1.1` are one version.
import type { Kysely, Transaction } from 'kysely';
import { compareDebianVersions } from '@tether/protocol/agent-upgrade';
import type { AgentPackagesTable, Database } from '../store/schema.js';

type Db = Kysely<Database> | Transaction<Database>;

export const AGENT_PACKAGE_API_VERSIONS = ['2024-07-10'] as const;
export const AGENT_PACKAGES_PATH = '/providers/Tether.Agent/packages';

/** Where an agent downloads `version`: a path below the control plane's URL. */
export function agentPackageDownloadPath(version: string): string {
  return `${AGENT_PACKAGES_PATH}/${encodeURIComponent(version)}/content?api-version=${AGENT_PACKAGE_API_VERSIONS[0]}`;
}

export interface AgentPackageMetadata {
  name: 'azcmagent';
  version: string;
  sha256: string;
  size: number;
  /** The publisher's signature, which machines verify with the keys they trust. */
  signature: string;
  publishedAt: string;
  publishedBy: string;
}

const METADATA = [
  'version',
  'sha256',
  'size',
  'signature',
  'published_at',
  'published_by',
] as const;
type MetadataRow = Pick<AgentPackagesTable, (typeof METADATA)[number]>;

export function renderAgentPackage(row: MetadataRow): AgentPackageMetadata {
  return {
    name: 'azcmagent',
    version: row.version,
    sha256: row.sha256,
    size: Number(row.size),
    signature: row.signature,
    publishedAt: row.published_at,
    publishedBy: row.published_by,
  };
}

/** Every published package, newest first. */
export async function listAgentPackages(db: Db): Promise<AgentPackageMetadata[]> {
  const rows = await db.selectFrom('agent_packages').select(METADATA).execute();
  return rows.map(renderAgentPackage).sort((a, b) => compareDebianVersions(b.version, a.version));
}

/** The published package of `version` (in Debian's order), or undefined. */
export async function findAgentPackage(
  db: Db,
  version: string,
): Promise<AgentPackageMetadata | undefined> {
  const all = await listAgentPackages(db);
  return all.find((p) => compareDebianVersions(p.version, version) === 0);
}

export async function newestAgentPackage(db: Db): Promise<AgentPackageMetadata | undefined> {
  return (await listAgentPackages(db))[0];
}

/** The .deb of exactly `version` as published, or undefined. */
export async function agentPackageContent(db: Db, version: string): Promise<Buffer | undefined> {
  const row = await db
    .selectFrom('agent_packages')
    .select('content')
    .where('version', '=', version)
    .executeTakeFirst();
  return row === undefined ? undefined : Buffer.from(row.content, 'base64');
}
