// `tether machine`: connected machines (az connectedmachine) — list, show and delete, with the
// status, last-seen time and the lock-down posture their agents report — and their extensions.
import { InvalidArgumentError, type Command } from 'commander';
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
import { parseResourceGroupName, parseResourceName } from '../client/parsers.js';
import {
  machineId,
  resourceGroupOf,
  resourceGroupScope,
  scopePath,
  subscriptionScope,
} from '../client/scope.js';
import type { ArmResource } from '../client/wire-types.js';
import type { ApiClient, WriteOptions } from '../client/api-client.js';
import { extensionWaitProgress } from '../client/extension-wait-progress.js';
import { registerMetrics } from './machine-metrics.js';

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
  { header: 'ExtensionPolicy', value: (m) => posture(m.properties?.['agentConfiguration']) },
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
  registerExtension(machine, deps);
  registerMetrics(machine, deps);
  registerUpgradeAgent(machine, deps);
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

const UPGRADE_COLUMNS: readonly Column<ArmResource>[] = [
  { header: 'Name', value: (m) => m.name },
  { header: 'ResourceGroup', value: (m) => resourceGroupOf(m.id) },
  { header: 'AgentVersion', value: (m) => m.properties?.['agentVersion'] },
  { header: 'DesiredVersion', value: (m) => upgradeOf(m)['desiredVersion'] },
  { header: 'Automatic', value: (m) => upgradeOf(m)['enableAutomaticUpgrade'] },
  { header: 'LastAttempt', value: (m) => upgradeOf(m)['lastAttemptStatus'] },
  { header: 'LastAttemptMessage', value: (m) => upgradeOf(m)['lastAttemptMessage'] },
];

function upgradeOf(machine: ArmResource): Record<string, unknown> {
  const value = machine.properties?.['agentUpgrade'];
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

/**
 * `tether machine upgrade-agent`: asks machines' agents to install a published agent package —
 * one machine, every machine of a group, or of the subscription — as an ordinary machine write.
 */
function registerUpgradeAgent(machine: Command, deps: CliDeps): void {
  machine
    .command('upgrade-agent')
    .description(
      'Roll out a published agent package (tether agent-package list) to one machine (-n), a resource group (-g) or the whole subscription.',
    )
    .option('--version <version>', 'the published azcmagent version to install')
    .option('--automatic', 'from now on, install every newer version as it is published')
    .option('--no-automatic', 'stop installing newer versions automatically')
    .option('-n, --name <name>', 'only this machine (needs -g)', parseResourceName)
    .option('-g, --resource-group <name>', 'resource group', parseResourceGroupName)
    .addOption(subscriptionOption())
    .addOption(outputOption())
    .action(
      defineAction<
        OutputOptions &
          SubscriptionOptions & {
            version?: string;
            automatic?: boolean;
            name?: string;
            resourceGroup?: string;
          }
      >(deps, async (o, c) => {
        if (o.version === undefined && o.automatic === undefined) {
          throw usageError(
            'Name what to install: --version V (a published version), or --automatic for every newer one.',
            '--version',
          );
        }
        if (o.name !== undefined && o.resourceGroup === undefined) {
          throw usageError(
            '--name needs --resource-group: a machine is named within its group.',
            '--name',
          );
        }
        const session = await c.session(o.subscription);
        const sub = session.subscriptionId();
        const paths =
          o.name !== undefined && o.resourceGroup !== undefined
            ? [scopePath(machineId(sub, o.resourceGroup, o.name))]
            : (
                await session.client.list<ArmResource>(
                  `${scopePath(o.resourceGroup === undefined ? subscriptionScope(sub) : resourceGroupScope(sub, o.resourceGroup))}/providers/Microsoft.HybridCompute/machines`,
                  QUERY,
                )
              ).map((m) => scopePath(m.id));
        const agentUpgrade = {
          ...(o.version === undefined ? {} : { desiredVersion: o.version }),
          ...(o.automatic === undefined ? {} : { enableAutomaticUpgrade: o.automatic }),
        };
        const updated: ArmResource[] = [];
        for (const path of paths) {
          updated.push(
            await session.client.patch<ArmResource>(
              path,
              { properties: { agentUpgrade } },
              { query: QUERY },
            ),
          );
        }
        c.print(updated, o.output, UPGRADE_COLUMNS);
      }),
    );
}

/** One word for the extension lock-down the agent reports from its local settings. */
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

interface ExtensionOptions extends OutputOptions, SubscriptionOptions {
  machineName: string;
  resourceGroup: string;
  name: string;
  publisher: string;
  type: string;
  typeHandlerVersion?: string;
  settings?: Record<string, unknown>;
  protectedSettings?: Record<string, unknown>;
  /** commander's `--no-wait`: false when given. */
  wait: boolean;
  yes?: boolean;
}

const EXTENSION_COLUMNS: readonly Column<ArmResource>[] = [
  { header: 'Name', value: (e) => e.name },
  { header: 'Publisher', value: (e) => e.properties?.['publisher'] },
  { header: 'Type', value: (e) => e.properties?.['type'] },
  { header: 'Version', value: (e) => e.properties?.['typeHandlerVersion'] },
  { header: 'ProvisioningState', value: (e) => e.properties?.['provisioningState'] },
  { header: 'Status', value: (e) => instanceStatus(e.properties?.['instanceView']) },
];

/** `tether machine extension …` (az connectedmachine extension): waits for the operation. */
function registerExtension(machine: Command, deps: CliDeps): void {
  const extension = machine
    .command('extension')
    .description('Extensions of a connected machine (az connectedmachine extension).');
  const target = (command: Command, withName: boolean): Command => {
    command
      .requiredOption('--machine-name <name>', 'machine name', parseResourceName)
      .requiredOption('-g, --resource-group <name>', 'resource group', parseResourceGroupName);
    if (withName) command.requiredOption('-n, --name <name>', 'extension name', parseResourceName);
    return command.addOption(subscriptionOption());
  };
  const path = (subscriptionId: string, o: ExtensionOptions, name?: string): string =>
    `${scopePath(machineId(subscriptionId, o.resourceGroup, o.machineName))}/extensions${name === undefined ? '' : `/${name}`}`;
  /** The wait for the machine, with progress; `doing` completes "Waiting for web-01 to …". */
  const waiting = async <T>(
    client: ApiClient,
    subscriptionId: string,
    o: ExtensionOptions,
    doing: string,
    write: (options: WriteOptions) => Promise<T>,
  ): Promise<T> => {
    if (!o.wait) return write({ query: QUERY, noWait: true });
    const progress = extensionWaitProgress(
      deps,
      client,
      {
        path: scopePath(machineId(subscriptionId, o.resourceGroup, o.machineName)),
        name: o.machineName,
        apiVersion: API_VERSIONS.machines,
      },
      doing,
    );
    try {
      return await write({ query: QUERY, onPoll: (operation) => progress.onPoll(operation) });
    } finally {
      progress.done();
    }
  };
  const writeOptions = (command: Command): Command =>
    command
      .option('--type-handler-version <version>', 'package version, e.g. 2.1 (newest 2.x) or 2.1.3')
      .option('--settings <json>', 'public settings as a JSON object', parseJsonObject)
      .option(
        '--protected-settings <json>',
        'secret settings as a JSON object; sealed to the machine key, never shown again',
        parseJsonObject,
      )
      .option('--no-wait', 'return once the request is accepted')
      .addOption(outputOption());

  writeOptions(
    target(extension.command('create'), true)
      .description('Create (or replace) an extension and wait for the machine to apply it.')
      .requiredOption(
        '--publisher <publisher>',
        'extension publisher, e.g. Microsoft.Azure.Extensions',
      )
      .requiredOption('--type <type>', 'extension type, e.g. CustomScript'),
  ).action(
    defineAction<ExtensionOptions>(deps, async (o, c) => {
      const session = await c.session(o.subscription);
      const body = {
        properties: {
          publisher: o.publisher,
          type: o.type,
          ...extensionProperties(o),
        },
      };
      // The extension takes its machine's location when the body names none.
      const sub = session.subscriptionId();
      const result = await waiting(session.client, sub, o, `apply '${o.name}'`, (options) =>
        session.client.put<ArmResource>(path(sub, o, o.name), body, options),
      );
      c.print(result, o.output, EXTENSION_COLUMNS);
    }),
  );
  writeOptions(
    target(extension.command('set'), true).description(
      'Change an extension (fields not given keep their value) and wait for the machine.',
    ),
  ).action(
    defineAction<ExtensionOptions>(deps, async (o, c) => {
      const session = await c.session(o.subscription);
      const sub = session.subscriptionId();
      const result = await waiting(session.client, sub, o, `apply '${o.name}'`, (options) =>
        session.client.patch<ArmResource>(
          path(sub, o, o.name),
          { properties: extensionProperties(o) },
          options,
        ),
      );
      c.print(result, o.output, EXTENSION_COLUMNS);
    }),
  );
  target(extension.command('show'), true)
    .description('Show an extension with the status its machine last reported.')
    .addOption(outputOption())
    .action(
      defineAction<ExtensionOptions>(deps, async (o, c) => {
        const session = await c.session(o.subscription);
        c.print(
          await session.client.get<ArmResource>(path(session.subscriptionId(), o, o.name), QUERY),
          o.output,
          EXTENSION_COLUMNS,
        );
      }),
    );
  target(extension.command('list'), false)
    .description("List a machine's extensions.")
    .addOption(outputOption())
    .action(
      defineAction<ExtensionOptions>(deps, async (o, c) => {
        const session = await c.session(o.subscription);
        c.print(
          await session.client.list<ArmResource>(path(session.subscriptionId(), o), QUERY),
          o.output,
          EXTENSION_COLUMNS,
        );
      }),
    );
  target(extension.command('delete'), true)
    .description('Remove an extension from the machine and wait until it is gone.')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--no-wait', 'return once the request is accepted')
    .action(
      defineAction<ExtensionOptions>(deps, async (o, c) => {
        await c.confirm(o.yes, `Remove extension '${o.name}' from machine '${o.machineName}'?`);
        const session = await c.session(o.subscription);
        const sub = session.subscriptionId();
        await waiting(session.client, sub, o, `remove '${o.name}'`, (options) =>
          session.client.delete(path(sub, o, o.name), options),
        );
      }),
    );
}

function extensionProperties(o: ExtensionOptions): Record<string, unknown> {
  return {
    ...(o.typeHandlerVersion === undefined ? {} : { typeHandlerVersion: o.typeHandlerVersion }),
    ...(o.settings === undefined ? {} : { settings: o.settings }),
    ...(o.protectedSettings === undefined ? {} : { protectedSettings: o.protectedSettings }),
  };
}

function parseJsonObject(value: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new InvalidArgumentError(
      'Expected a JSON object such as \'{"commandToExecute":"date"}\'.',
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidArgumentError('Expected a JSON object, not an array or a single value.');
  }
  return parsed as Record<string, unknown>;
}

function instanceStatus(view: unknown): string | undefined {
  if (typeof view !== 'object' || view === null) return undefined;
  const status = (view as { status?: { displayStatus?: unknown } }).status;
  return typeof status?.displayStatus === 'string' ? status.displayStatus : undefined;
}
