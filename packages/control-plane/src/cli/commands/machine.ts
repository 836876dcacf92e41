// `tether machine`: connected machines (az connectedmachine) — list, show and delete, with the
// status, last-seen time and the lock-down posture their agents report.
import type { Command } from 'commander';
import { API_VERSIONS } from '../client/api-versions.js';
import { processCliDeps, type CliDeps } from '../client/cli-deps.js';
import {
  configureGroup,
  defineAction,
  outputOption,
  subscriptionOption,
  type OutputOptions,
  type SubscriptionOptions,
} from '../client/command-kit.js';
import type { Column } from '../client/output-format.js';
import { parseResourceGroupName, parseResourceName } from '../client/parsers.js';
import {
  machineId,
  resourceGroupOf,
  resourceGroupScope,
  scopePath,
  subscriptionScope,
} from '../client/scope.js';
import type { ArmResource } from '../client/wire-types.js';

interface MachineOptions extends OutputOptions, SubscriptionOptions {
  name: string;
  resourceGroup: string;
}

const QUERY = { 'api-version': API_VERSIONS.machines };

const MACHINE_COLUMNS: readonly Column<ArmResource>[] = [
  { header: 'Name', value: (m) => m.name },
  { header: 'ResourceGroup', value: (m) => resourceGroupOf(m.id) },
  { header: 'Location', value: (m) => m.location },
  { header: 'Status', value: (m) => m.properties?.['status'] },
  { header: 'LastStatusChange', value: (m) => m.properties?.['lastStatusChange'] },
  { header: 'AgentVersion', value: (m) => m.properties?.['agentVersion'] },
  { header: 'OsName', value: (m) => m.properties?.['osName'] },
  { header: 'Extensions', value: (m) => posture(m.properties?.['agentConfiguration']) },
];

export function register(program: Command, deps: CliDeps = processCliDeps()): void {
  const machine = configureGroup(program.command('machine'), deps).description(
    'Connected machines (az connectedmachine).',
  );
  machine
    .command('list')
    .description('List machines of the subscription or of one resource group.')
    .option('-g, --resource-group <name>', 'only this resource group', parseResourceGroupName)
    .addOption(subscriptionOption())
    .addOption(outputOption())
    .action(
      defineAction<OutputOptions & SubscriptionOptions & { resourceGroup?: string }>(
        deps,
        async (o, c) => {
          const session = await c.session(o.subscription);
          const scope =
            o.resourceGroup === undefined
              ? subscriptionScope(session.subscriptionId())
              : resourceGroupScope(session.subscriptionId(), o.resourceGroup);
          const machines = await session.client.list<ArmResource>(
            `${scopePath(scope)}/providers/Microsoft.HybridCompute/machines`,
            QUERY,
          );
          c.print(machines, o.output, MACHINE_COLUMNS);
        },
      ),
    );
  machine
    .command('show')
    .description('Show a machine, including the local security settings its agent reports.')
    .requiredOption('-n, --name <name>', 'machine name', parseResourceName)
    .requiredOption('-g, --resource-group <name>', 'resource group', parseResourceGroupName)
    .addOption(subscriptionOption())
    .addOption(outputOption())
    .action(
      defineAction<MachineOptions>(deps, async (o, c) => {
        const session = await c.session(o.subscription);
        const id = machineId(session.subscriptionId(), o.resourceGroup, o.name);
        c.print(
          await session.client.get<ArmResource>(scopePath(id), QUERY),
          o.output,
          MACHINE_COLUMNS,
        );
      }),
    );
  machine
    .command('delete')
    .description('Delete a machine resource (the agent on the server is not uninstalled).')
    .requiredOption('-n, --name <name>', 'machine name', parseResourceName)
    .requiredOption('-g, --resource-group <name>', 'resource group', parseResourceGroupName)
    .option('-y, --yes', 'do not ask for confirmation')
    .addOption(subscriptionOption())
    .action(
      defineAction<MachineOptions & { yes?: boolean }>(deps, async (o, c) => {
        await c.confirm(
          o.yes,
          `Delete machine '${o.name}' in resource group '${o.resourceGroup}'?`,
        );
        const session = await c.session(o.subscription);
        await session.client.delete(
          scopePath(machineId(session.subscriptionId(), o.resourceGroup, o.name)),
          {
            query: QUERY,
          },
        );
      }),
    );
}

/** One word for the extension lock-down the agent reports (S7, S12). */
function posture(configuration: unknown): string | undefined {
  if (typeof configuration !== 'object' || configuration === null) return undefined;
  const c = configuration as Record<string, unknown>;
  if (String(c['extensionsEnabled']).toLowerCase() === 'false') return 'disabled';
  const allow = Array.isArray(c['extensionsAllowList']) ? c['extensionsAllowList'].length : 0;
  const block = Array.isArray(c['extensionsBlockList']) ? c['extensionsBlockList'].length : 0;
  if (allow > 0) return `allowlist(${allow})`;
  if (block > 0) return `blocklist(${block})`;
  return 'any';
}
