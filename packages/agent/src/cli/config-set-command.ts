// `azcmagent config set <property> <value> [--add|--remove]`: root only; validated, locked,
// written atomically. Bad input is refused with a specific error and changes nothing.
import { applySet, type ConfigChange, type ListAction } from '../config/config-change.js';
import {
  corruptConfigError,
  loadLocalConfig,
  type LoadedConfig,
} from '../config/local-config-file.js';
import { updateLocalConfig } from '../config/local-config-writer.js';
import { AgentError } from '../errors.js';
import type { CommandContext, CommandSpec } from './command-module.js';
import { requireRoot } from './require-root.js';

export const spec: CommandSpec = {
  usage: 'config set <property> <value>',
  summary:
    'Set a configuration property. Lists take comma-separated entries and are replaced unless --add or --remove is given.',
  details:
    "Every change is recorded first (who by uid, when, old and new value) in var/opt/azcmagent/localconfig-changes.jsonl, and reported to the control plane's activity log with the next heartbeat.",
  flags: [
    {
      long: 'add',
      short: 'a',
      type: 'boolean',
      description: 'Append the entries to a list property',
    },
    {
      long: 'remove',
      short: 'r',
      type: 'boolean',
      description: 'Remove the entries from a list property',
    },
  ],
  positionals: { min: 2, max: 2 },
  examples: [
    'azcmagent config set extensions.allowlist "Microsoft.Azure.Monitor/AzureMonitorLinuxAgent"',
    'azcmagent config set extensions.allowlist "Microsoft.Azure.Monitor/AzureMonitorWindowsAgent" --add',
    'azcmagent config set guestconfiguration.enabled false',
    'azcmagent config set config.mode monitor',
  ],
};

export async function run(context: CommandContext): Promise<number> {
  requireRoot(['config', 'set', ...context.positionals, ...listFlags(context)]);
  const [property = '', value = ''] = context.positionals;
  const action = listAction(context);
  const paths = context.paths();
  const attempt = (loaded: LoadedConfig): ConfigChange => {
    if (loaded.state === 'corrupt') throw corruptConfigError(loaded);
    return applySet(loaded.stored, property, value, action);
  };
  // Refuse bad input before taking the lock or creating anything; the check is repeated
  // under the lock because another writer may change the file in between.
  attempt(loadLocalConfig(paths));
  context.verbose(`Updating ${paths.localConfig}`);
  const change = await updateLocalConfig(paths, attempt);
  for (const warning of change.warnings) context.out.stderr(`${warning}\n`);
  if (context.json) context.printJson({ Message: change.message, Warnings: change.warnings });
  else context.out.stdout(`${change.message}\n`);
  return 0;
}

function listAction(context: CommandContext): ListAction {
  const add = context.flags.add === true;
  const remove = context.flags.remove === true;
  if (add && remove) {
    throw new AgentError(
      'ERR_USAGE',
      '--add and --remove cannot be used together; run one, then the other.',
    );
  }
  return add ? 'add' : remove ? 'remove' : 'replace';
}

function listFlags(context: CommandContext): string[] {
  return [
    context.flags.add === true ? '--add' : '',
    context.flags.remove === true ? '--remove' : '',
  ].filter((flag) => flag !== '');
}
