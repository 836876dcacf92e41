// `--scope` or `-g`, defaulting to the subscription: the scope options policy commands share.
import type { Command } from 'commander';
import { usageError } from './cli-error.js';
import { subscriptionOption, type SubscriptionOptions } from './command-kit.js';
import { parseResourceGroupName, parseResourceName, parseScopeArgument } from './parsers.js';
import { machineId, resourceGroupScope, subscriptionScope } from './scope.js';

export interface ScopeOptions extends SubscriptionOptions {
  scope?: string;
  resourceGroup?: string;
  machineName?: string;
}

export function withScopeOptions(command: Command, machine = false): Command {
  command
    .option(
      '--scope <scope>',
      'scope such as /subscriptions/{id}/resourceGroups/{name}',
      parseScopeArgument,
    )
    .option('-g, --resource-group <name>', 'the resource group as scope', parseResourceGroupName)
    .addOption(subscriptionOption());
  if (machine) {
    command.option(
      '--machine-name <name>',
      'a machine in --resource-group as scope',
      parseResourceName,
    );
  }
  return command;
}

/** The scope the options name; the subscription when they name none. */
export function scopeFromOptions(options: ScopeOptions, subscriptionId: () => string): string {
  if (options.scope !== undefined && options.resourceGroup !== undefined) {
    throw usageError('pass either --scope or --resource-group, not both.', '--scope');
  }
  if (options.machineName !== undefined) {
    if (options.resourceGroup === undefined) {
      throw usageError(
        "--machine-name needs --resource-group (-g), the machine's group.",
        '--machine-name',
      );
    }
    return machineId(subscriptionId(), options.resourceGroup, options.machineName);
  }
  if (options.scope !== undefined) return options.scope;
  if (options.resourceGroup !== undefined) {
    return resourceGroupScope(subscriptionId(), options.resourceGroup);
  }
  return subscriptionScope(subscriptionId());
}
