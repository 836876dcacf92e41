// `tether group`: resource groups, as `az group` creates, lists, shows and deletes them.
import { InvalidArgumentError, type Command } from 'commander';
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
import { parseResourceGroupName, parseTag } from '../client/parsers.js';
import type { ArmResource } from '../client/wire-types.js';

interface NameOptions extends OutputOptions, SubscriptionOptions {
  name: string;
}

const QUERY = { 'api-version': API_VERSIONS.resourceGroups };

const GROUP_COLUMNS: readonly Column<ArmResource>[] = [
  { header: 'Name', value: (g) => g.name },
  { header: 'Location', value: (g) => g.location },
  { header: 'Status', value: (g) => g.properties?.['provisioningState'] },
];

export function register(program: Command, deps: CliDeps = processCliDeps()): void {
  const group = configureGroup(program.command('group'), deps).description(
    'Resource groups: the containers machines live in (az group).',
  );
  group
    .command('create')
    .description('Create a resource group, or update the tags of an existing one.')
    .requiredOption('-n, --name <name>', 'resource group name', parseResourceGroupName)
    .requiredOption('-l, --location <location>', 'location such as westeurope', parseLocation)
    .option('--tags <tag...>', 'space-separated tags: key=value (or key)', parseTag)
    .addOption(subscriptionOption())
    .addOption(outputOption())
    .action(
      defineAction<NameOptions & { location: string; tags?: Record<string, string> }>(
        deps,
        async (o, c) => {
          const session = await c.session(o.subscription);
          const created = await session.client.put<ArmResource>(
            groupPath(session.subscriptionId(), o.name),
            { location: o.location, tags: o.tags ?? {} },
            { query: QUERY },
          );
          c.print(created, o.output, GROUP_COLUMNS);
        },
      ),
    );
  group
    .command('list')
    .description('List resource groups of the subscription.')
    .option('--tag <tag>', 'only groups with this tag: key=value or key', (value: string) =>
      parseTag(value),
    )
    .addOption(subscriptionOption())
    .addOption(outputOption())
    .action(
      defineAction<OutputOptions & SubscriptionOptions & { tag?: Record<string, string> }>(
        deps,
        async (o, c) => {
          const session = await c.session(o.subscription);
          const groups = await session.client.list<ArmResource>(
            `/subscriptions/${session.subscriptionId()}/resourcegroups`,
            QUERY,
          );
          const [key, value] = Object.entries(o.tag ?? {})[0] ?? [];
          const shown =
            key === undefined
              ? groups
              : groups.filter(
                  (g) => g.tags?.[key] !== undefined && (value === '' || g.tags[key] === value),
                );
          c.print(shown, o.output, GROUP_COLUMNS);
        },
      ),
    );
  group
    .command('show')
    .description('Show a resource group.')
    .requiredOption('-n, --name <name>', 'resource group name', parseResourceGroupName)
    .addOption(subscriptionOption())
    .addOption(outputOption())
    .action(
      defineAction<NameOptions>(deps, async (o, c) => {
        const session = await c.session(o.subscription);
        const found = await session.client.get<ArmResource>(
          groupPath(session.subscriptionId(), o.name),
          QUERY,
        );
        c.print(found, o.output, GROUP_COLUMNS);
      }),
    );
  group
    .command('exists')
    .description('Print true if the resource group exists, else false.')
    .requiredOption('-n, --name <name>', 'resource group name', parseResourceGroupName)
    .addOption(subscriptionOption())
    .action(
      defineAction<NameOptions>(deps, async (o, c) => {
        const session = await c.session(o.subscription);
        const found = await session.client.find(groupPath(session.subscriptionId(), o.name), QUERY);
        deps.stdout(`${found !== undefined}\n`);
      }),
    );
  group
    .command('delete')
    .description('Delete a resource group and everything in it.')
    .requiredOption('-n, --name <name>', 'resource group name', parseResourceGroupName)
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--no-wait', 'do not wait for the deletion to finish')
    .addOption(subscriptionOption())
    .action(
      defineAction<NameOptions & { yes?: boolean; wait: boolean }>(deps, async (o, c) => {
        await c.confirm(o.yes, `Delete resource group '${o.name}' and every machine in it?`);
        const session = await c.session(o.subscription);
        await session.client.delete(groupPath(session.subscriptionId(), o.name), {
          query: QUERY,
          noWait: !o.wait,
        });
      }),
    );
}

function groupPath(subscriptionId: string, name: string): string {
  return `/subscriptions/${subscriptionId}/resourcegroups/${encodeURIComponent(name)}`;
}

function parseLocation(value: string): string {
  if (/^[A-Za-z0-9][A-Za-z0-9 -]{0,63}$/.test(value)) return value;
  throw new InvalidArgumentError(
    'A location is 1-64 letters, digits, spaces or hyphens, such as westeurope.',
  );
}
