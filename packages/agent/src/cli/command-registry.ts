// Every `azcmagent` command with its one-line summary. Modules are imported only when their
// command runs, so starting the CLI costs the same however many commands exist.
import type { CommandModule } from './command-module.js';

export interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  readonly load?: () => Promise<CommandModule>;
  readonly subcommands?: readonly CommandEntry[];
}

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'check',
    summary: 'Check the lock-down best practices of the local security settings',
    load: () => import('./check-command.js'),
  },
  {
    name: 'config',
    summary: 'Get, set, clear, list and describe the local agent settings',
    subcommands: [
      {
        name: 'clear',
        summary: 'Reset a property (or every property) to its default',
        load: () => import('./config-clear-command.js'),
      },
      {
        name: 'get',
        summary: "Print a property's value",
        load: () => import('./config-get-command.js'),
      },
      {
        name: 'info',
        summary: 'Describe the properties and the values they accept',
        load: () => import('./config-info-command.js'),
      },
      {
        name: 'list',
        summary: 'List every property with its value, the mode and the effective allowlist',
        load: () => import('./config-list-command.js'),
      },
      {
        name: 'set',
        summary: 'Set a property; --add/--remove change one entry of a list',
        load: () => import('./config-set-command.js'),
      },
    ],
  },
  {
    name: 'version',
    summary: 'Print the agent version',
    load: () => import('./version-command.js'),
  },
];
