// `azcmagent config clear [property]`: root only; resets one property, or every property, to
// its default. Clearing everything is also how a corrupt localconfig.json is repaired.
import { applyClear, type ConfigChange } from '../config/config-change.js';
import {
  corruptConfigError,
  loadLocalConfig,
  type LoadedConfig,
} from '../config/local-config-file.js';
import { updateLocalConfig } from '../config/local-config-writer.js';
import type { CommandContext, CommandSpec } from './command-module.js';
import { requireRoot } from './require-root.js';

export const spec: CommandSpec = {
  usage: 'config clear [property]',
  summary: 'Reset a configuration property to its default; without a property, reset them all.',
  details:
    'Clearing every property also repairs a damaged localconfig.json (the damaged file is kept as localconfig.json.corrupt). ' +
    "Every change is recorded and reported to the control plane's activity log, as with config set.",
  flags: [],
  positionals: { min: 0, max: 1 },
  examples: ['azcmagent config clear proxy.url', 'azcmagent config clear'],
};

export async function run(context: CommandContext): Promise<number> {
  requireRoot(['config', 'clear', ...context.positionals]);
  const property = context.positionals[0];
  const paths = context.paths();
  const attempt = (loaded: LoadedConfig): ConfigChange => {
    if (loaded.state === 'ok') return applyClear(loaded.stored, property);
    if (property !== undefined) throw corruptConfigError(loaded);
    return {
      stored: {},
      message: `All config properties cleared to their default values; the damaged file is kept as ${paths.localConfigDamaged}`,
      warnings: [],
    };
  };
  attempt(loadLocalConfig(paths)); // refuse bad input before locking or creating anything
  context.verbose(`Updating ${paths.localConfig}`);
  const change = await updateLocalConfig(paths, attempt);
  for (const warning of change.warnings) context.out.stderr(`${warning}\n`);
  if (context.json) context.printJson({ Message: change.message, Warnings: change.warnings });
  else context.out.stdout(`${change.message}\n`);
  return 0;
}
