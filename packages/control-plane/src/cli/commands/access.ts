// `tether access show`: who has access at a scope (the portal's "Access control (IAM)" view),
// flagging indirect administrators — principals that can deploy extensions, which run as root.
import type { Command } from 'commander';
import { API_VERSIONS } from '../client/api-versions.js';
import { processCliDeps, type CliDeps } from '../client/cli-deps.js';
import { usageError } from '../client/cli-error.js';
import {
  configureGroup,
  defineAction,
  outputOption,
  subscriptionOption,
  type OutputOptions,
  type SubscriptionOptions,
} from '../client/command-kit.js';
import type { Column } from '../client/output-format.js';
import {
  parseResourceGroupName,
  parseResourceName,
  parseScopeArgument,
} from '../client/parsers.js';
import { machineId, resourceGroupScope, scopePath, subscriptionScope } from '../client/scope.js';
import type { AccessEntry } from '../client/wire-types.js';

interface ShowOptions extends OutputOptions, SubscriptionOptions {
  scope?: string;
  resourceGroup?: string;
  machine?: string;
}

/** Table columns; a group that brings access is shown by name when the list names it. */
function accessColumns(entries: readonly AccessEntry[]): Column<AccessEntry>[] {
  const groups = new Map(
    entries
      .filter((e) => e.principalType === 'Group' && e.displayName != null)
      .map((e) => [e.principalId.toLowerCase(), e.displayName]),
  );
  return [
    { header: 'Principal', value: (e) => e.displayName ?? e.principalId },
    { header: 'Type', value: (e) => e.principalType },
    { header: 'Role', value: (e) => e.roleName },
    { header: 'AssignedAt', value: (e) => e.assignedAt },
    { header: 'Inherited', value: (e) => e.inherited },
    {
      header: 'ViaGroup',
      value: (e) =>
        e.viaGroup == null ? undefined : (groups.get(e.viaGroup.toLowerCase()) ?? e.viaGroup),
    },
    { header: 'IndirectAdmin', value: (e) => (e.indirectAdministrator ? 'YES' : 'no') },
  ];
}

export function register(program: Command, deps: CliDeps = processCliDeps()): void {
  const access = configureGroup(program.command('access'), deps).description(
    'Effective access: who can see and manage machines, and who is an indirect administrator.',
  );
  access
    .command('show')
    .description(
      'Show every principal with a role at a scope, directly, inherited or through a group.',
    )
    .option(
      '--scope <scope>',
      'scope such as /subscriptions/{id}/resourceGroups/{name}',
      parseScopeArgument,
    )
    .option('-g, --resource-group <name>', 'the resource group as scope', parseResourceGroupName)
    .option('--machine <name>', 'a machine in --resource-group as scope', parseResourceName)
    .addOption(subscriptionOption())
    .addOption(outputOption())
    .action(
      defineAction<ShowOptions>(deps, async (o, c) => {
        if (o.scope !== undefined && (o.resourceGroup !== undefined || o.machine !== undefined)) {
          throw usageError(
            'pass either --scope or --resource-group [--machine], not both.',
            '--scope',
          );
        }
        if (o.machine !== undefined && o.resourceGroup === undefined) {
          throw usageError(
            '--machine needs --resource-group, the group the machine is in.',
            '--machine',
          );
        }
        const session = await c.session(o.subscription);
        const scope =
          o.scope ??
          (o.resourceGroup === undefined
            ? subscriptionScope(session.subscriptionId())
            : o.machine === undefined
              ? resourceGroupScope(session.subscriptionId(), o.resourceGroup)
              : machineId(session.subscriptionId(), o.resourceGroup, o.machine));
        const entries = await session.client.list<AccessEntry>(
          `${scopePath(scope)}/providers/Tether.Authorization/access`,
          { 'api-version': API_VERSIONS.access },
        );
        c.print(entries, o.output, accessColumns(entries));
        const indirect = new Set(
          entries.filter((e) => e.indirectAdministrator).map((e) => e.principalId),
        );
        if (o.output === 'table' && indirect.size > 0) {
          deps.stdout(
            `\n${indirect.size} principal(s) marked IndirectAdmin can deploy extensions, which run as root: they are indirect administrators of the servers at ${scope}.\n`,
          );
        }
      }),
    );
}
