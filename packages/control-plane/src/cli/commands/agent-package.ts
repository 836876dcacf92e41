// `tether agent-package publish|list`: the azcmagent packages this control plane can roll out
// to machines (docs/agent-upgrade.md). Each is signed here with the publisher's private key,
// which machines check against the keys their root trusts (azcmagent upgrade trust); the control
// plane checks the package with dpkg-deb and against the signature. Versions are immutable, and
// publishing one moves every machine that upgrades automatically.
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { signAgentPackage } from '@tether/protocol/extension-package';
import { inspectAgentDeb } from '../../agent-upgrade/deb-inspection.js';
import { processCliDeps, type CliDeps } from '../client/cli-deps.js';
import { usageError } from '../client/cli-error.js';
import {
  configureGroup,
  defineAction,
  outputOption,
  type OutputOptions,
} from '../client/command-kit.js';
import type { Column } from '../client/output-format.js';
import { readPrivateKey } from '../client/publisher-key.js';

const QUERY = { 'api-version': '2024-07-10' };
const PACKAGES = '/providers/Tether.Agent/packages';
const MAX_PACKAGE_BYTES = 160 * 1024 * 1024;

interface AgentPackage {
  name: string;
  version: string;
  sha256: string;
  size: number;
  publishedAt: string;
  publishedBy: string;
}

const COLUMNS: readonly Column<AgentPackage>[] = [
  { header: 'Name', value: (p) => p.name },
  { header: 'Version', value: (p) => p.version },
  { header: 'Size', value: (p) => p.size },
  { header: 'SHA256', value: (p) => p.sha256 },
  { header: 'PublishedAt', value: (p) => p.publishedAt },
  { header: 'PublishedBy', value: (p) => p.publishedBy },
];

export function register(program: Command, deps: CliDeps = processCliDeps()): void {
  const group = configureGroup(program.command('agent-package'), deps).description(
    'Agent packages (azcmagent .debs) to roll out to machines (publish, list).',
  );
  group
    .command('publish')
    .description('Upload an azcmagent .deb; machines get it with `tether machine upgrade-agent`.')
    .argument('<file>', 'the package, e.g. dist/packages/azcmagent_1.2.0_amd64.deb')
    .requiredOption(
      '--key <file>',
      'the publisher private key (PEM), from tether extension keygen; machines trust its public half',
    )
    .addOption(outputOption())
    .action(
      defineAction<OutputOptions & { key: string }>(deps, async (o, c) => {
        const file = resolve(String(c.args[0]));
        let size: number;
        try {
          const info = await stat(file);
          if (!info.isFile()) throw new Error('not a regular file');
          size = info.size;
        } catch (error) {
          throw usageError(`Cannot read ${file}: ${(error as Error).message}.`, '<file>');
        }
        if (size > MAX_PACKAGE_BYTES) {
          throw usageError(
            `${file} has ${size} bytes; the control plane takes agent packages of at most ${MAX_PACKAGE_BYTES}.`,
            '<file>',
          );
        }
        const key = await readPrivateKey(resolve(o.key));
        const deb = await readFile(file);
        let version: string;
        try {
          ({ version } = await inspectAgentDeb(deb));
        } catch (error) {
          throw usageError(`${file}: ${(error as Error).message}`, '<file>');
        }
        const signature = await signAgentPackage(key, version, deb);
        const session = await c.session();
        const published = await session.client.post<AgentPackage>(
          PACKAGES,
          { package: deb.toString('base64'), signature },
          { query: QUERY },
        );
        c.print(published, o.output, COLUMNS);
      }),
    );
  group
    .command('list')
    .description('List the published agent packages, newest first.')
    .addOption(outputOption())
    .action(
      defineAction<OutputOptions>(deps, async (o, c) => {
        const session = await c.session();
        c.printList(
          await session.client.list<AgentPackage>(PACKAGES, QUERY),
          o.output,
          COLUMNS,
          "No agent package is published yet; publish one with 'tether agent-package publish FILE.deb --key publisher.key'.",
        );
      }),
    );
}
