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
import { printable, type Column } from '../client/output-format.js';
import {
  parseResourceGroupName,
  parseResourceName,
  parseScopeArgument,
} from '../client/parsers.js';
import { machineId, resourceGroupScope, scopePath, subscriptionScope } from '../client/scope.js';
import type {
  AccessEntry,
  RootAccessReport,
  RootAccessRow,
  RootPrincipal,
} from '../client/wire-types.js';

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

interface RootOptions extends OutputOptions, SubscriptionOptions {
  resourceGroup?: string;
  machineName?: string;
}

const ROOT_PRINCIPAL_COLUMNS: Column<RootPrincipal>[] = [
  { header: 'Principal', value: (p) => p.displayName ?? p.principalId },
  { header: 'Type', value: (p) => p.principalType },
  { header: 'ViaGroup', value: (p) => p.viaGroup?.displayName ?? p.viaGroup?.id },
  { header: 'Doors', value: (p) => p.doors.join(', ') },
  { header: 'Roles', value: (p) => [...new Set(p.grants.map((g) => g.roleName))].join(', ') },
];

const ROOT_FLEET_COLUMNS: Column<RootAccessRow>[] = [
  { header: 'Machine', value: (r) => r.name },
  { header: 'ResourceGroup', value: (r) => r.resourceGroup },
  { header: 'Reported', value: (r) => r.reported },
  { header: 'OpenDoors', value: (r) => r.openDoors.join(', ') },
  { header: 'Principals', value: (r) => r.principalCount },
  { header: 'Nobody', value: (r) => r.nobody },
];

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
  access
    .command('root')
    .description(
      "Who can run code as root through Tether: role holders crossed with each machine's own settings.",
    )
    .option('-g, --resource-group <name>', 'the resource group', parseResourceGroupName)
    .option(
      '-n, --machine-name <name>',
      'one machine in --resource-group: its full report',
      parseResourceName,
    )
    .addOption(subscriptionOption())
    .addOption(outputOption())
    .action(
      defineAction<RootOptions>(deps, async (o, c) => {
        if (o.machineName !== undefined && o.resourceGroup === undefined) {
          throw usageError(
            '--machine-name needs --resource-group, the group the machine is in.',
            '--machine-name',
          );
        }
        const session = await c.session(o.subscription);
        const query = { 'api-version': API_VERSIONS.rootAccess };
        if (o.machineName === undefined || o.resourceGroup === undefined) {
          const scope =
            o.resourceGroup === undefined
              ? subscriptionScope(session.subscriptionId())
              : resourceGroupScope(session.subscriptionId(), o.resourceGroup);
          const rows = await session.client.list<RootAccessRow>(
            `${scopePath(scope)}/providers/Tether.Authorization/rootAccess`,
            query,
          );
          c.print(rows, o.output, ROOT_FLEET_COLUMNS);
          return;
        }
        const id = machineId(session.subscriptionId(), o.resourceGroup, o.machineName);
        const report = await session.client.get<RootAccessReport>(
          `${scopePath(id)}/providers/Tether.Authorization/rootAccess`,
          query,
        );
        if (o.output === 'json') {
          c.print(report, 'json', []);
          return;
        }
        c.print(report.principals, 'table', ROOT_PRINCIPAL_COLUMNS);
        const doors = report.doors.map((d) =>
          printable(
            `${d.name}: ${d.open ? `open (${d.openBecause ?? ''})` : `closed by ${d.closedBy ?? ''}`}`,
          ),
        );
        const gap = report.principals.length > 0 ? '\n' : '';
        deps.stdout(`${gap}${doors.join('\n')}\n\n${printable(report.summary)}\n`);
      }),
    );
}
