// GET /install/azcmagent.sh and /install/azcmagent_amd64.deb: what "Add a server" fetches, with
// no token (a new machine has none); the script carries the package's digest, and the caller
// reaches both only by trusting this server's CA. The package is the configured file, else the
// newest agent package published for upgrades; with neither, both are 404.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Kysely } from 'kysely';
import { agentPackageContent, newestAgentPackage } from '../agent-upgrade/agent-package-store.js';
import { ArmError } from '../api/arm-error.js';
import type { RouteSpec } from '../api/route-spec.js';
import type { Database } from '../store/schema.js';
import { INSTALL_PACKAGE_PATH, INSTALL_SCRIPT_PATH, installScript } from './install-script.js';

export function installRoutes(options: {
  publicUrl: string;
  /** The azcmagent .deb to hand out; read on every request, so a newer file is served at once. */
  agentPackage: string | undefined;
  /** Where published agent packages are, served when no file is configured. */
  db?: Kysely<Database>;
}): RouteSpec[] {
  const readPackage = async (): Promise<Buffer> => {
    if (options.agentPackage === undefined) {
      const newest = options.db === undefined ? undefined : await newestAgentPackage(options.db);
      const content =
        newest === undefined || options.db === undefined
          ? undefined
          : await agentPackageContent(options.db, newest.version);
      if (content !== undefined) return content;
      throw new ArmError(
        'ResourceNotFound',
        "This control plane serves no agent package: start it with --agent-package FILE (the azcmagent .deb), or publish one with 'tether agent-package publish FILE'.",
      );
    }
    try {
      return await readFile(options.agentPackage);
    } catch (error) {
      throw new ArmError(
        'ResourceNotFound',
        'The agent package this control plane was started with cannot be read; see its log.',
        { cause: error },
      );
    }
  };
  return [
    {
      method: 'GET',
      url: INSTALL_SCRIPT_PATH,
      access: { kind: 'public' },
      async handler({ reply }) {
        const digest = createHash('sha256')
          .update(await readPackage())
          .digest('hex');
        void reply.header('cache-control', 'no-store');
        void reply.type('text/x-shellscript; charset=utf-8');
        return installScript({ publicUrl: options.publicUrl, packageSha256: digest });
      },
    },
    {
      method: 'GET',
      url: INSTALL_PACKAGE_PATH,
      access: { kind: 'public' },
      async handler({ reply }) {
        const content = await readPackage();
        void reply.header('cache-control', 'no-store');
        void reply.type('application/vnd.debian.binary-package');
        return content;
      },
    },
  ];
}
